// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore

/// Closes each minute for ``InsightCounter`` once its grace for late deliveries is over, and
/// stores the Insights it decides, through the ingest pipeline (so they are archived and reach
/// every consumer like any record).
///
/// At start it first resumes: the store's counts of the window before the collector started are
/// counted and closed minute by minute, so the baseline does not start from zero, and an Insight
/// open when the collector stopped is decided open again (its records, derived from the same
/// key and minutes, are the ones already stored) and ends once, later.
struct InsightsService: Service {
    let counter: InsightCounter
    let pipeline: IngestPipeline
    let binder: RecordBinder
    let builder: InsightRecordBuilder
    /// How long after a minute ends its counts may still arrive.
    let grace: Duration
    let logger: Logger

    /// Minutes of history written into an Insight's baseline attributions: the day before it.
    static let attributionBaselineMinutes: Int64 = 1440

    /// The last minute whose grace is over at `now`.
    static func lastClosable(now: Date, grace: Duration) -> Int64 {
        Int64(((now.timeIntervalSince1970 - Double(grace.components.seconds)) / 60).rounded(.down)) - 1
    }

    func run() async throws {
        // Cancellation is the only way out: a store that fails is retried, never the end of the
        // collector (a service that returns stops its group).
        await cancelWhenGracefulShutdown {
            do {
                try await resume()
                try await closeMinutes()
            } catch {
                return
            }
        }
    }

    /// Counts and closes the window's minutes up to ``InsightCounter/resumedThrough`` from the store.
    func resume() async throws {
        let last = counter.resumedThrough
        let first = last - Int64(counter.settings.windowDays) * 1440 + 1
        var written = 0
        var hour = first
        while hour <= last {
            try Task.checkCancellation()
            let end = min(hour + 60, last + 1)
            let range = (from: hour * 60_000, to: end * 60_000)
            let counts = Dictionary(
                grouping: try await retrying("read the store's counts") { try await pipeline.store.insightCounts(from: range.from, to: range.to) },
                by: \.minute)
            for minute in hour..<end {
                let resumed = counter.resume(minute: minute, counts: counts[minute] ?? [])
                written += try await retrying("store Insights") { try await store(resumed.decisions, findings: resumed.findings) }
            }
            hour = end
        }
        let tally = counter.tally
        logger.notice(
            "Insights resumed from the store",
            metadata: [
                "insights.from": "\(TrailTime.formatEpochSeconds(first * 60))", "insights.keys": "\(tally.keys)",
                "insights.records": "\(written)",
            ])
    }

    /// Closes each minute when its grace is over, until cancelled.
    func closeMinutes() async throws {
        var next = counter.resumedThrough + 1
        var reported = counter.tally
        while true {
            let closable = Self.lastClosable(now: Date(), grace: grace)
            if next > closable {
                // `next` may close once its minute and the grace after it are over.
                let due = Double(next + 1) * 60 + Double(grace.components.seconds)
                try await Task.sleep(for: .milliseconds(max(1, Int((due - Date().timeIntervalSince1970) * 1000))))
                continue
            }
            while next <= closable {
                let decisions = counter.close(minute: next)
                let findings = counter.takeFindings()
                if !decisions.isEmpty || !findings.isEmpty {
                    let written = try await retrying("store Insights") { try await store(decisions, findings: findings) }
                    // From the moment the minute could close to its Insights stored.
                    let due = Double(next + 1) * 60 + Double(grace.components.seconds)
                    logger.notice(
                        "Insights stored",
                        metadata: [
                            "insights.minute": "\(TrailTime.formatEpochSeconds(next * 60))", "insights.records": "\(written)",
                            "insights.latency-ms": "\(Int((Date().timeIntervalSince1970 - due) * 1000))",
                        ])
                }
                next += 1
            }
            let tally = counter.tally
            if tally.overflow > reported.overflow || tally.late > reported.late {
                logger.warning(
                    "Insights dropped counts",
                    metadata: [
                        "insights.keys": "\(tally.keys)", "insights.overflow": "\(tally.overflow - reported.overflow)",
                        "insights.late": "\(tally.late - reported.late)", "insights.max-keys": "\(counter.settings.maximumKeys)",
                    ])
            }
            reported = tally
        }
    }

    /// `operation`, again after a backoff (250 ms to 30 s, full jitter) while it fails, until it
    /// succeeds or the service is cancelled; each failure is logged.
    func retrying<T: Sendable>(_ what: String, _ operation: () async throws -> T) async throws -> T {
        var backoff = RetryBackoff()
        while true {
            do {
                return try await operation()
            } catch let error as CancellationError {
                throw error
            } catch {
                let delay = backoff.failed(randomFraction: Double.random(in: 0...1))
                logger.error("Insights cannot \(what); trying again", metadata: ["error": "\(error)", "insights.retry": "\(delay)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Stores the records of `decisions` and `findings`; how many were new.
    func store(_ decisions: [InsightDetector<InsightKey>.Decision], findings: [FirstSeenDetector.Finding] = []) async throws -> Int {
        guard !decisions.isEmpty || !findings.isEmpty else { return 0 }
        var records: [StoredRecord] = []
        for finding in findings {
            records += try builder.records(for: finding).map { try binder.bindInsight($0, host: finding.host) }
            logger.notice(
                "Insight \(finding.kind.rawValue)",
                metadata: [
                    "insight.user": "\(IdentifierText.escapingControlCharacters(finding.user))", "insight.host": "\(finding.host)",
                    "insight.value": "\(IdentifierText.escapingControlCharacters(finding.value))",
                    "insight.event": "\(finding.eventSource) \(finding.eventName)",
                ])
        }
        for decision in decisions {
            let start = decision.startMinute * 60_000
            let end = (decision.minute + 1) * 60_000
            let insight = try await pipeline.store.insightAttributions(of: decision.key, from: start, to: end)
            let baseline = try await pipeline.store.insightAttributions(
                of: decision.key, from: start - Self.attributionBaselineMinutes * 60_000, to: start)
            let minutes = Double(decision.minute - decision.startMinute + 1)
            let attributions = InsightRecordBuilder.attributes.map { attribute in
                InsightRecordBuilder.Attribution(
                    attribute: attribute,
                    insight: (insight[attribute] ?? []).map { ($0.value, Double($0.count) / minutes) },
                    baseline: (baseline[attribute] ?? []).map { ($0.value, Double($0.count) / Double(Self.attributionBaselineMinutes)) })
            }
            let record = builder.record(for: decision, attributions: attributions)
            let host: String =
                if case .host(let host) = decision.key.scope { host } else { RecordBinder.collectorHost }
            records.append(try binder.bindInsight(record, host: host))
            logger.notice(
                "Insight \(decision.state.rawValue)",
                metadata: [
                    "insight.key":
                        "\(IdentifierText.escapingControlCharacters(decision.key.description.replacingOccurrences(of: "\u{0}", with: " ")))",
                    "insight.type": "\(decision.key.insightType)", "insight.direction": "\(decision.direction.rawValue)",
                    "insight.baseline": "\(decision.baselineAverage)", "insight.average": "\(decision.insightAverage)",
                ])
        }
        return try await pipeline.commit(records).accepted
    }
}
