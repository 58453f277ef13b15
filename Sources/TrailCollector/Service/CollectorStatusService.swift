// SPDX-License-Identifier: Apache-2.0

import ServiceLifecycle
import TrailSystemd

/// Keeps the collector's readiness in `systemctl status` (`STATUS=`) and feeds the systemd
/// watchdog, from READY=1 (sent when the listener is up) until shutdown.
struct CollectorStatusService: Service {
    let health: CollectorHealth

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await SystemdNotifier().keepReporting(every: .seconds(10)) {
                let report = await health.readiness()
                return report.ready ? "ready" : "not ready: \(report.problems.joined(separator: "; "))"
            }
        }
    }
}
