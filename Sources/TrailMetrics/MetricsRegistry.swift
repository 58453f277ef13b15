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
    public func exposition() async -> [UInt8] {
        for refresh in refreshers.withLock({ $0 }) { await refresh() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 << 10)
        prometheus.emit(into: &buffer)
        return buffer
    }

    /// The exposition's media type.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    // MARK: - Making metrics

    public func counter(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
    }

    /// A histogram of durations, exposed in seconds: `name` ends in `_seconds`.
    public func timer(_ name: String, _ labels: [(String, String)] = []) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: name, dimensions: labels, preferredDisplayUnit: .seconds, factory: factory)
    }

    /// A counter that mirrors a count kept elsewhere.
    public func cumulative(_ name: String, _ labels: [(String, String)] = []) -> CumulativeCounter {
        CumulativeCounter(counter(name, labels))
    }
}
