// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP (`systemctl reload`, the units' `ExecReload=`) runs `reload`, between `RELOADING=1` and
/// `READY=1`, until graceful shutdown.
public struct SystemdReloadService: Service {
    private let reload: @Sendable () -> Void

    public init(reload: @escaping @Sendable () -> Void) {
        self.reload = reload
    }

    /// Call first thing in a daemon: SIGHUP's default action ends the process, and a hangup that
    /// arrives before this service has trapped it (a `kill -HUP` during start, a reload right after
    /// the collector's `READY=1`) must not. One that early is ignored: the configuration it asks
    /// for is the one being read.
    public static func ignoreHangupsUntilRunning() {
        signal(SIGHUP, SIG_IGN)
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            let notifier = SystemdNotifier()
            // Before READY=1 (still starting) the reload is done but not announced.
            let announced = SystemdNotifier.hasSignalledReady
            if announced { notifier.reloading() }
            reload()
            if announced { notifier.send("READY=1") }
        }
    }
}
