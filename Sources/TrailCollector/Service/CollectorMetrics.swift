// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Foundation
import TrailCore
import TrailMetrics
import TrailRules

/// Every metric the collector exposes, declared here once.
///
/// Ingest, commits, API calls and action attempts are counted where they happen; the archive's
/// lag, open Insights, rule counters and free disk space are read at each scrape from what already
/// keeps them. Label values are bounded: host names are certificate CNs the CA issued, API actions
/// are the known operations (anything else is `other`), rule names come from the operator's files.
public final class CollectorMetrics: Sendable {
    public let registry: MetricsRegistry

    /// The CloudTrail API operations HostTrail answers; other targets are counted as `other`.
    static let apiActions: Set<String> = [
        "LookupEvents", "DescribeTrails", "GetTrailStatus", "ListPublicKeys", "ListInsightsMetricData", "ListRules", "ListActionJobs",
        "RetryActionJob", "ListResponses", "RevertResponse", "ListHosts",
    ]

    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        registry.gauge("hosttrail_collector_build_info", [("version", HostTrailVersion.current)]).record(1)
    }

    func ingested(host: String, _ result: IngestResult) {
        registry.counter("hosttrail_collector_ingested_records_total", [("host", host)]).increment(by: Int64(result.accepted))
        registry.counter("hosttrail_collector_duplicate_records_total", [("host", host)]).increment(by: Int64(result.duplicates))
    }

    /// One batch's commit took `duration`.
    func committed(after duration: Duration) {
        registry.timer("hosttrail_collector_commit_duration_seconds").recordNanoseconds(Int64(duration / .nanoseconds(1)))
    }

    /// An ingest request refused, by its error code (a fixed set: `IngestRejection`'s codes).
    func ingestRefused(code: String) {
        registry.counter("hosttrail_collector_ingest_refused_requests_total", [("code", code)]).increment()
    }

    func apiCall(target: String?, status: Int) {
        let operation = target.map { String($0.split(separator: ".").last ?? "") } ?? ""
        let action = Self.apiActions.contains(operation) ? operation : "other"
        registry.counter("hosttrail_collector_api_requests_total", [("action", action), ("status", "\(status)")]).increment()
    }

    /// One attempt of a rule's action: its kind (`webhook`, `program`, `respond` …) and the job's state after it.
    func actionAttempted(kind: String, state: String) {
        registry.counter("hosttrail_collector_action_attempts_total", [("action", kind), ("state", state)]).increment()
    }

    /// Mirrors the rules' counters (``RuleStatusBoard``) at each scrape.
    func follow(rules board: RuleStatusBoard) {
        registry.onScrape { [registry] in
            for rule in board.rules {
                let labels = [("rule", rule.name)]
                registry.cumulative("hosttrail_collector_rule_matched_records_total", labels).update(rule.counters.matched)
                registry.cumulative("hosttrail_collector_rule_firings_total", labels).update(rule.counters.fired)
                registry.cumulative("hosttrail_collector_rule_suppressed_firings_total", labels).update(rule.counters.suppressed)
            }
        }
    }

    /// Open Insights, read at each scrape.
    func follow(insights counter: InsightCounter) {
        let open = registry.gauge("hosttrail_collector_insights_open")
        registry.onScrape { open.record(counter.openInsights) }
    }

    /// The health's figures (archive lag, free disk), refreshed at each scrape.
    func follow(health: CollectorHealth) {
        let lag = registry.gauge("hosttrail_collector_archive_lag_seconds")
        let free = registry.gauge("hosttrail_collector_data_free_bytes")
        let ready = registry.gauge("hosttrail_collector_ready")
        registry.onScrape {
            let report = await health.readiness()
            if let seconds = report.archiveLagSeconds { lag.record(seconds) }
            if let bytes = report.freeBytes { free.record(bytes) }
            ready.record(report.ready ? 1 : 0)
        }
    }
}
