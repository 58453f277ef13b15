// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Prometheus
import Synchronization

/// One daemon's metrics: a Prometheus registry, the swift-metrics factory that writes into it, and
/// what runs before each scrape.
///
/// Parts that count events make swift-metrics objects with ``factory`` (`Counter(label:dimensions:factory:)`,
/// `Timer`, `Gauge`); nothing is bootstrapped process-wide, so several daemons in one test process
/// keep apart. State that is already counted elsewhere (the spool's counters, a queue's depth) is
/// read when scraped, by a refresher (``onScrape(_:)``), into gauges and ``CumulativeCounter``s:
/// the exposition then agrees with the source it mirrors instead of being a second count of it.
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    private let refreshers = Mutex<[@Sendable () async -> Void]>([])

    public init() {
        prometheus = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: prometheus)
        // Shipping, commits and lookups take milliseconds to tens of seconds.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
    }

    /// Runs `refresh` before every scrape (and every textfile write).
    public func onScrape(_ refresh: @escaping @Sendable () async -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// The Prometheus text exposition format (version 0.0.4), refreshed.
    ///
    /// One scrape at a time (a scraper and the textfile writer may ask together): two refreshes
    /// interleaved would let a ``CumulativeCounter`` see an older total after a newer one.
    public func exposition() async -> [UInt8] {
        await scrapes.withLock {
            for refresh in refreshers.withLock({ $0 }) { await refresh() }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 << 10)
            prometheus.emit(into: &buffer)
            return buffer
        }
    }

    private let scrapes = AsyncLock()

    /// The exposition's media type.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    // MARK: - Making metrics

    /// Metrics made, by name and labels: asking again for one returns it, so callers need no
    /// table of their own (a per-source or per-host metric is asked for where it is counted).
    private let made = Mutex<[String: any Sendable]>([:])

    private func metric<Metric: Sendable>(_ name: String, _ labels: [(String, String)], make: () -> Metric) -> Metric {
        let key = ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1F}")
        return made.withLock { made in
            if let existing = made[key] as? Metric { return existing }
            let metric = make()
            made[key] = metric
            return metric
        }
    }

    public func counter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        metric(name, labels) { CoreMetrics.Counter(label: name, dimensions: labels, factory: factory) }
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
        metric(name, labels) { CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory) }
    }

    /// A histogram of durations, exposed in seconds: `name` ends in `_seconds`.
    public func timer(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Timer {
        metric(name, labels) { CoreMetrics.Timer(label: name, dimensions: labels, preferredDisplayUnit: .seconds, factory: factory) }
    }

    /// A counter that mirrors a count kept elsewhere.
    public func cumulative(_ name: String, _ labels: [(String, String)] = []) -> CumulativeCounter {
        let counter = counter(name, labels)  // made first: `metric` holds its lock while making
        return metric(name + "\u{1F}cumulative", labels) { CumulativeCounter(counter) }
    }
}
