// SPDX-License-Identifier: Apache-2.0

import Logging
import ServiceLifecycle
import TrailCore
import TrailSystemd

/// Tells systemd the daemon is ready (`READY=1`), keeps its `STATUS=` line current, feeds the
/// watchdog, and, on shutdown, says it is stopping.
///
/// It waits for every source to take its place (``SourceReadiness``: the socket listens, the
/// journal and the files are positioned), so `READY=1` is true when sent: what happens after it
/// is read. Then it keeps the health line (``AgentHealth/statusLine()``) in `systemctl status` and
/// feeds the watchdog (``SystemdNotifier/keepReporting(every:line:)``).
struct ReadinessService: Service {
    private let status: String
    private let sources: SourceReadiness
    private let health: AgentHealth
    private let logger: Logger

    static let statusInterval: Duration = .seconds(10)

    init(status: String, sources: SourceReadiness, health: AgentHealth, logger: Logger) {
        self.status = status
        self.sources = sources
        self.health = health
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
        try? await cancelWhenGracefulShutdown {
            await notifier.keepReporting(every: Self.statusInterval) { health.statusLine() }
        }
        notifier.stopping()
    }
}
