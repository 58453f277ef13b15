// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Synchronization
import TrailCore

/// The agent's health, as `GET /v1/health` says it (on the application socket and on the metrics
/// listener) and as `systemctl status` shows it (``statusLine``).
///
/// - `starting` (503): a source has not taken its place yet.
/// - `refusing` (503): the spool is full under the `block` policy; the socket answers 503.
/// - `degraded` (200): working, with ``Report/problems`` to look at (the collector unanswered for
///   a minute, the spool 90% full, a source failed).
/// - `ok` (200).
final class AgentHealth: Sendable {
    let spool: Spool
    let shipper: ShipperState
    let readiness: SourceReadiness

    /// The collector unanswered this long is a problem (a brief outage is not).
    static let shippingGrace: TimeInterval = 60
    /// Spool use from which a problem is named.
    static let spoolWarningFraction = 0.9
    /// A spool that refused or dropped for being full this recently still counts as full.
    static let fullnessMemory: TimeInterval = 10

    /// The spool's refusal and drop counters when last seen to change, and when: the spool is
    /// full while they still move.
    private let recentFullness = Mutex<(refused: (count: Int, at: Date?), dropped: (count: Int, at: Date?))>(((0, nil), (0, nil)))

    init(spool: Spool, shipper: ShipperState, readiness: SourceReadiness) {
        self.spool = spool
        self.shipper = shipper
        self.readiness = readiness
        let counters = spool.currentCounters
        recentFullness.withLock { $0 = ((counters.refusedFull, nil), (counters.droppedFull, nil)) }
    }

    struct Report: Sendable {
        var status: String
        var problems: [String]
        var body: JSONValue
        var httpStatus: Int { status == "starting" || status == "refusing" ? 503 : 200 }
    }

    func report(now: Date = Date()) -> Report {
        let maxBytes = spool.configuration.maxBytes
        let bytes = spool.bytesOnDisk
        let pending = spool.pendingRecords
        let shipping = shipper.current
        var problems: [String] = []
        let counters = spool.currentCounters
        let (refusedRecently, droppedRecently) = recentFullness.withLock { seen in
            if counters.refusedFull != seen.refused.count { seen.refused = (counters.refusedFull, now) }
            if counters.droppedFull != seen.dropped.count { seen.dropped = (counters.droppedFull, now) }
            return (
                seen.refused.at.map { now.timeIntervalSince($0) < Self.fullnessMemory } ?? false,
                seen.dropped.at.map { now.timeIntervalSince($0) < Self.fullnessMemory } ?? false
            )
        }
        if refusedRecently {
            problems.append("the spool is full (\(bytes) of \(maxBytes) bytes): sources wait and the socket answers 503")
        } else if droppedRecently {
            problems.append("the spool is full (\(bytes) of \(maxBytes) bytes): the oldest records are dropped")
        } else if Double(bytes) >= Double(maxBytes) * Self.spoolWarningFraction {
            problems.append("the spool is \(Int(Double(bytes) * 100 / Double(maxBytes)))% full")
        }
        var shipperMembers: [String: JSONValue] = ["consecutiveFailures": .integer(Int64(shipping.consecutiveFailures))]
        if let last = shipping.lastDelivered { shipperMembers["lastDelivered"] = .string(TrailTime.format(last)) }
        if let error = shipping.lastError { shipperMembers["lastError"] = .string(error) }
        if shipping.consecutiveFailures > 0, pending > 0,
            now.timeIntervalSince(shipping.lastDelivered ?? spoolOpened) >= Self.shippingGrace
        {
            problems.append("the collector has not taken records for over \(Int(Self.shippingGrace)) s: \(shipping.lastError ?? "")")
        }
        let sources = readiness.report
        for (name, state) in sources.objectValue ?? [:] {
            if let text = state.stringValue, text.hasPrefix("failed") { problems.append("source \(name) \(text)") }
        }
        var spoolMembers: [String: JSONValue] = [
            "pendingRecords": .integer(Int64(pending)), "bytes": .integer(Int64(bytes)), "maxBytes": .integer(Int64(maxBytes)),
            "fullPolicy": .string(spool.configuration.fullPolicy.rawValue),
        ]
        if let oldest = oldestRecord(now: now) {
            spoolMembers["oldestEventTime"] = .string(oldest.text)
            spoolMembers["oldestRecordAgeSeconds"] = .integer(max(0, Int64(now.timeIntervalSince(oldest.date))))
        }
        let status = !readiness.isSettled ? "starting" : refusedRecently ? "refusing" : problems.isEmpty ? "ok" : "degraded"
        let body: JSONValue = [
            "status": .string(status), "problems": .array(problems.sorted().map(JSONValue.string)),
            "pendingRecords": .integer(Int64(pending)), "spool": .object(spoolMembers), "shipper": .object(shipperMembers), "sources": sources,
        ]
        return Report(status: status, problems: problems.sorted(), body: body)
    }

    /// The oldest record's event time, read from the spool at most every ``oldestRecordLifetime``:
    /// the socket answers `GET /v1/health` on its event loop, where a disk read each time would
    /// let a client that loops on it stall the others. Metrics share it.
    func oldestRecord(now: Date = Date()) -> (text: String, date: Date)? {
        let clock = ContinuousClock.now
        if let cached = oldestCache.withLock({ $0 }), clock - cached.at < Self.oldestRecordLifetime { return cached.value }
        let value = spool.oldestRecordEventTime()
        oldestCache.withLock { $0 = (clock, value) }
        return value
    }

    static let oldestRecordLifetime: Duration = .seconds(2)
    private let oldestCache = Mutex<(at: ContinuousClock.Instant, value: (text: String, date: Date)?)?>(nil)

    /// When this agent opened its spool: the reference for "not delivered since" before a first delivery.
    let spoolOpened = Date()

    /// One line for `systemctl status` (`STATUS=`).
    func statusLine() -> String {
        let report = report()
        let pending = spool.pendingRecords
        var line = "\(report.status): \(pending) record\(pending == 1 ? "" : "s") to ship"
        if let first = report.problems.first { line += "; \(first)" }
        return String(line.prefix(200))
    }
}
