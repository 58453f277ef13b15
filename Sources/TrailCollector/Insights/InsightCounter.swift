// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore

/// The detector, fed from two sides: the ingest pipeline (each record new to the store, counted
/// under its keys in its event time's minute) and ``InsightsService`` (the store's counts of the
/// minutes before the collector started, then the minutes' closes).
///
/// Minutes up to ``resumedThrough`` are counted from the store at start, later ones from the
/// pipeline: each record is counted once, whichever commit came first.
final class InsightCounter: IngestConsumer {
    private let detector: Mutex<InsightDetector<InsightKey>>
    /// First-seen activity, and what it found since the last minute closed.
    private let firstSeen: Mutex<(detector: FirstSeenDetector, findings: [FirstSeenDetector.Finding])>
    /// The last minute counted from the store; the pipeline counts the minutes after it.
    let resumedThrough: Int64

    init(settings: InsightDetector<InsightKey>.Settings, resumedThrough: Int64) {
        detector = Mutex(InsightDetector(settings: settings))
        var firstSeenSettings = FirstSeenDetector.Settings()
        firstSeenSettings.windowDays = settings.windowDays
        firstSeenSettings.minimumHistoryMinutes = settings.minimumHistoryMinutes
        firstSeenSettings.maximumEntries = settings.maximumKeys
        firstSeen = Mutex((FirstSeenDetector(settings: firstSeenSettings), []))
        self.resumedThrough = resumedThrough
    }

    var settings: InsightDetector<InsightKey>.Settings { detector.withLock { $0.settings } }

    /// Insights open now.
    var openInsights: Int { detector.withLock { $0.openInsights } }

    func committed(_ records: [StoredRecord]) async {
        detector.withLock { detector in
            for record in records where Self.counts(record) {
                let minute = record.eventTime / 60_000
                guard minute > resumedThrough else { continue }
                let stops = InsightKey.stopsActivity(eventSource: record.eventSource, eventName: record.eventName)
                for key in InsightKey.keys(
                    eventSource: record.eventSource, eventName: record.eventName, readOnly: record.readOnly, errorCode: record.errorCode,
                    host: record.host, userName: record.userName)
                {
                    detector.count(key, minute: minute, stops: stops && key.watchesSilence)
                }
            }
        }
        firstSeen.withLock { state in
            for record in records where Self.counts(record) && record.eventTime / 60_000 > resumedThrough {
                state.findings += state.detector.observe(
                    eventSource: record.eventSource, eventName: record.eventName, user: record.invokingUser ?? record.userName, host: record.host,
                    sourceIPAddress: record.sourceIPAddress, succeeded: record.errorCode == nil, minute: record.eventTime / 60_000)
            }
        }
    }

    /// Insights count hosts' records: not Insights, and not the collector's own (rule matches and
    /// action attempts would make the collector a "host" whose quiet is a `HostSilent`, and feed
    /// Insights and rules into each other). ``EventStore/insightCounts(from:to:)`` leaves out the same.
    static func counts(_ record: StoredRecord) -> Bool {
        record.eventCategory != RecordBinder.insightCategory && !RecordBinder.reservedEventSources.contains(record.eventSource)
    }

    /// What first-seen activity the pipeline's records made since the last call.
    func takeFindings() -> [FirstSeenDetector.Finding] {
        firstSeen.withLock { state in
            defer { state.findings = [] }
            return state.findings
        }
    }

    /// Counts the store's groups of one minute (at most ``resumedThrough``) and closes it; and
    /// observes them for first-seen activity.
    func resume(minute: Int64, counts: [InsightCount]) -> (decisions: [InsightDetector<InsightKey>.Decision], findings: [FirstSeenDetector.Finding]) {
        let findings = firstSeen.withLock { state in
            counts.flatMap { group in
                state.detector.observe(
                    eventSource: group.eventSource, eventName: group.eventName, user: group.invokingUser ?? group.userName, host: group.host,
                    sourceIPAddress: group.sourceIPAddress, succeeded: group.errorCode == nil, minute: minute)
            }
        }
        let decisions = detector.withLock { detector in
            for group in counts {
                let stops = InsightKey.stopsActivity(eventSource: group.eventSource, eventName: group.eventName)
                for key in group.keys { detector.count(key, minute: minute, by: group.count, stops: stops && key.watchesSilence) }
            }
            return detector.close(minute: minute)
        }
        return (decisions, findings)
    }

    func close(minute: Int64) -> [InsightDetector<InsightKey>.Decision] {
        detector.withLock { $0.close(minute: minute) }
    }

    /// Keys followed; counts dropped past the key limit; counts that came after their minute closed.
    var tally: (keys: Int, overflow: Int, late: Int) {
        detector.withLock { ($0.keyCount, $0.overflow, $0.late) }
    }
}
