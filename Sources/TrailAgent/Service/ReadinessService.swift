// SPDX-License-Identifier: Apache-2.0

import Logging
import ServiceLifecycle
import TrailSystemd

/// Tells systemd the daemon is ready (`READY=1`) and, on shutdown, that it is stopping.
///
/// It is the last service of the group: the ones before it have bound their sockets by the time
/// it runs, so `READY=1` is true when sent.
public struct ReadinessService: Service {
    private let status: String
    private let logger: Logger

    public init(status: String, logger: Logger) {
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        let notifier = SystemdNotifier()
        if notifier.ready(status: status) {
            logger.debug("notified systemd: READY=1")
        }
        try? await gracefulShutdown()
        notifier.stopping()
    }
}
