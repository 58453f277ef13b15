// SPDX-License-Identifier: Apache-2.0

import Logging
import ServiceLifecycle
import TrailSystemd

/// Tells systemd the daemon is ready (`READY=1`) and, on shutdown, that it is stopping.
///
/// It waits for `gate` (the application socket is listening), so `READY=1` is true when sent.
struct ReadinessService: Service {
    private let status: String
    private let gate: StartupGate
    private let logger: Logger

    init(status: String, gate: StartupGate, logger: Logger) {
        self.status = status
        self.gate = gate
        self.logger = logger
    }

    func run() async throws {
        let notifier = SystemdNotifier()
        while !gate.isOpen {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
        if notifier.ready(status: status) {
            logger.debug("notified systemd: READY=1")
        }
        try? await gracefulShutdown()
        notifier.stopping()
    }
}
