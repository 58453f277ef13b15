// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import FoundationEssentials
import TrailCore
import TrailMetrics

/// Every metric the agent exposes, declared here once (a new one is a line here and, for a count
/// kept elsewhere, a line in ``refresh()``).
///
/// The spool's counters are the agent's accounting (received = acknowledged + pending + dropped +
/// dead-lettered): they are mirrored at each scrape, never counted a second time, so the
/// exposition reconciles with a `Heartbeat` and `GET /v1/health`. Label values are the agent's
/// own source names and fixed reasons, never record content.
final class AgentMetrics: Sendable {
    let registry: MetricsRegistry
    private let spool: Spool
    private let contexts: SourceContexts
    private let shipper: ShipperState
    private let health: AgentHealth

    private let received: CumulativeCounter
    private let shipped: CumulativeCounter
    private let acknowledged: CumulativeCounter
    private let duplicates: CumulativeCounter
    private let droppedFull: CumulativeCounter
    private let droppedCorrupt: CumulativeCounter
    private let deadLettered: CumulativeCounter
    private let refusedFull: CumulativeCounter
    private let retries: CumulativeCounter
    private let pending: CoreMetrics.Gauge
    private let bytes: CoreMetrics.Gauge
    private let maxBytes: CoreMetrics.Gauge
    private let oldestAge: CoreMetrics.Gauge
    private let lastDelivered: CoreMetrics.Gauge

    /// The request-duration timers the shipper records into (``ShipperState``).
    static func shipperState(_ registry: MetricsRegistry) -> ShipperState {
        ShipperState { outcome in registry.timer("hosttrail_agent_ship_request_duration_seconds", [("outcome", outcome)]) }
    }

    init(registry: MetricsRegistry, spool: Spool, contexts: SourceContexts, shipper: ShipperState, health: AgentHealth) {
        self.health = health
        self.registry = registry
        self.spool = spool
        self.contexts = contexts
        self.shipper = shipper
        received = registry.cumulative("hosttrail_agent_spool_received_records_total")
        shipped = registry.cumulative("hosttrail_agent_spool_shipped_records_total")
        acknowledged = registry.cumulative("hosttrail_agent_spool_acknowledged_records_total")
        duplicates = registry.cumulative("hosttrail_agent_spool_duplicate_records_total")
        droppedFull = registry.cumulative("hosttrail_agent_spool_dropped_records_total", [("reason", "spool_full")])
        droppedCorrupt = registry.cumulative("hosttrail_agent_spool_dropped_records_total", [("reason", "corrupt")])
        deadLettered = registry.cumulative("hosttrail_agent_spool_dead_lettered_records_total")
        refusedFull = registry.cumulative("hosttrail_agent_spool_refused_requests_total", [("reason", "spool_full")])
        retries = registry.cumulative("hosttrail_agent_ship_retries_total")
        pending = registry.gauge("hosttrail_agent_spool_pending_records")
        bytes = registry.gauge("hosttrail_agent_spool_bytes")
        maxBytes = registry.gauge("hosttrail_agent_spool_max_bytes")
        oldestAge = registry.gauge("hosttrail_agent_spool_oldest_record_age_seconds")
        lastDelivered = registry.gauge("hosttrail_agent_ship_last_delivered_timestamp_seconds")
        registry.gauge("hosttrail_agent_build_info", [("version", HostTrailVersion.current)]).record(1)
        registry.onScrape { [self] in refresh() }
    }

    func refresh() {
        let counters = spool.currentCounters
        received.update(counters.received)
        shipped.update(counters.shipped)
        acknowledged.update(counters.acknowledged)
        duplicates.update(counters.duplicates)
        droppedFull.update(counters.droppedFull)
        droppedCorrupt.update(counters.droppedCorrupt)
        deadLettered.update(counters.deadLettered)
        refusedFull.update(counters.refusedFull)
        pending.record(spool.pendingRecords)
        bytes.record(spool.bytesOnDisk)
        maxBytes.record(spool.configuration.maxBytes)
        oldestAge.record(health.oldestRecord().map { max(0, Date().timeIntervalSince($0.date)) } ?? 0)
        let shipping = shipper.current
        retries.update(shipping.retries)
        if let last = shipping.lastDelivered { lastDelivered.record(last.timeIntervalSince1970) }
        for context in contexts.all {
            let counters = context.counters
            let labels = [("source", context.name)]
            registry.cumulative("hosttrail_agent_source_read_total", labels).update(counters.read)
            registry.cumulative("hosttrail_agent_source_records_total", labels).update(counters.records)
            registry.cumulative("hosttrail_agent_source_refusals_total", labels).update(counters.refusals)
        }
    }
}
