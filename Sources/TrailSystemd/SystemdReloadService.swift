// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP (`systemctl reload`, the units' `ExecReload=`) runs `reload`, between `RELOADING=1` and
/// `READY=1`, until graceful shutdown. It is a daemon's one consumer of SIGHUP: what reloads on
/// the signal goes in `reload`, so a hangup is never seen by one part and missed by another.
public struct SystemdReloadService: Service {
    private let reload: @Sendable () -> Void

    public init(reload: @escaping @Sendable () -> Void) {
        self.reload = reload
    }

    /// Call first thing in a daemon. SIGHUP's default action ends the process; until this
    /// service traps the signal (once the daemon's services run, perhaps after its `READY=1`), a
    /// hangup is counted instead, and the service reloads once for it when it starts.
    public static func recordHangupsUntilRunning() {
        // Touched here so its lazy initialization never runs inside the handler.
        earlyHangups.store(0, ordering: .relaxed)
        signal(SIGHUP) { _ in SystemdReloadService.earlyHangups.add(1, ordering: .relaxed) }
    }

    /// Hangups that arrived before the service trapped the signal (an atomic add is async-signal-safe).
    static let earlyHangups = Atomic<Int>(0)

    public func run() async throws {
        // Libdispatch installs its own handler for the signal when the source is registered, which
        // the initializer awaits: a hangup from then on is the sequence's, one before is counted.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        if Self.earlyHangups.exchange(0, ordering: .relaxed) > 0 { handle() }
        for await _ in hangups.cancelOnGracefulShutdown() { handle() }
    }

    private func handle() {
        let notifier = SystemdNotifier()
        // Before READY=1 (still starting) the reload is done but not announced.
        let announced = SystemdNotifier.hasSignalledReady
        if announced { notifier.reloading() }
        reload()
        if announced { notifier.send("READY=1") }
    }
}
