// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle
import UnixSignals

/// SIGHUP (`systemctl reload`, the units' `ExecReload=`) runs `reload`, between `RELOADING=1` and
/// `READY=1`, until graceful shutdown.
public struct SystemdReloadService: Service {
    private let reload: @Sendable () -> Void

    public init(reload: @escaping @Sendable () -> Void) {
        self.reload = reload
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
