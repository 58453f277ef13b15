// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import FoundationEssentials
import Synchronization

/// How the shipper is doing, for health and metrics: its last delivery, the failures since, the
/// last error, and every request's duration (into the `hosttrail_agent_ship_request_duration_seconds`
/// histogram, by outcome).
final class ShipperState: Sendable {
    struct Snapshot: Sendable {
        /// When the collector last answered a batch (committed or refused for good).
        var lastDelivered: Date?
        /// Requests failed since then (no answer, 5xx, 408, 429).
        var consecutiveFailures = 0
        /// Every failed request since start: each one is retried.
        var retries = 0
        var lastError: String?
    }

    private let snapshot = Mutex(Snapshot())
    private let delivered: CoreMetrics.Timer?
    private let failed: CoreMetrics.Timer?

    /// - Parameter duration: Makes the request-duration timer for an outcome (`delivered`, `retry`).
    init(duration: ((String) -> CoreMetrics.Timer)? = nil) {
        delivered = duration?("delivered")
        failed = duration?("retry")
    }

    var current: Snapshot { snapshot.withLock { $0 } }

    func requestDelivered(after duration: Duration) {
        delivered?.record(duration: duration)
        snapshot.withLock { state in
            state.lastDelivered = Date()
            state.consecutiveFailures = 0
            state.lastError = nil
        }
    }

    func requestFailed(after duration: Duration, reason: String) {
        failed?.record(duration: duration)
        snapshot.withLock { state in
            state.consecutiveFailures += 1
            state.retries += 1
            state.lastError = String(reason.prefix(300))
        }
    }
}

extension CoreMetrics.Timer {
    func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
