// SPDX-License-Identifier: Apache-2.0

import Logging
import ServiceLifecycle
import TrailCore
import TrailSystemd

/// Tells systemd the daemon is ready (`READY=1`) and, on shutdown, that it is stopping.
///
/// It waits for every source to take its place (``SourceReadiness``: the socket listens, the
/// journal and the files are positioned), so `READY=1` is true when sent: what happens after it
/// is read.
struct ReadinessService: Service {
    private let status: String
    private let sources: SourceReadiness
    private let logger: Logger

    init(status: String, sources: SourceReadiness, logger: Logger) {
        self.status = status
        self.sources = sources
        self.logger = logger
    }

    func run() async throws {
        let notifier = SystemdNotifier()
        // Positioning can take long (compressed rotations read to find a checkpoint after an
        // outage): systemd's start timeout must not kill the agent for it, and restart it to
        // begin again.
        let positioning = sources.isSettled ? nil : StartTimeoutExtension(status: "positioning its sources")
        defer { positioning?.stop() }
        while !sources.isSettled {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
        positioning?.stop()
        logger.info("agent ready", metadata: ["sources": "\(String(decoding: sources.report.serialized(), as: UTF8.self))"])
        if notifier.ready(status: status) {
            logger.debug("notified systemd: READY=1")
        }
        try? await gracefulShutdown()
        notifier.stopping()
    }
}
