// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// `hosttrail status`: each host's last record and heartbeat, agent version, lag, spool backlog,
/// drops since its last heartbeat and certificate expiry, flagged `silent` (nothing received for
/// `silentAfter`: three heartbeat intervals by default), `lagging` (its newest event, or the oldest
/// record its agent still holds, older than `laggingAfter`), `dropping` (its last heartbeat
/// counted drops) and `certificate-expiring` (within 30 days). Every cell escaped: host names and
/// versions come from hosts.
public struct FleetStatus: Sendable {
    public struct Host: Sendable, Equatable {
        public var host: String
        public var lastReceived: Date?
        public var lastHeartbeat: Date?
        public var version: String?
        public var lagSeconds: Int64?
        public var pendingRecords: Int64?
        public var oldestRecordAgeSeconds: Int64?
        public var droppedSinceLastHeartbeat: Int64?
        public var droppedLast15Minutes: Int64?
        public var certificateNotAfter: Date?
        public var flags: [String]
    }

    public var hosts: [Host]

    /// - Parameters:
    ///   - silentAfter: Seconds without a record before a host is silent; `nil`: three times its
    ///     heartbeat interval (15 minutes without a heartbeat).
    public init(answer: JSONValue, now: Date, silentAfter: TimeInterval?, laggingAfter: TimeInterval) {
        func date(_ value: JSONValue?) -> Date? { value?.stringValue.flatMap(TrailTime.parseISO8601) }
        hosts = (answer["Hosts"]?.arrayValue ?? []).map { row in
            let heartbeat = row["LastHeartbeat"]
            let spool = heartbeat?["Spool"]
            var host = Host(
                host: row["Host"]?.stringValue ?? "?", lastReceived: date(row["LastReceived"]), lastHeartbeat: date(heartbeat?["Time"]),
                version: heartbeat?["Version"]?.stringValue, lagSeconds: date(row["NewestEventTime"]).map { Int64(now.timeIntervalSince($0)) },
                pendingRecords: spool?["pendingRecords"]?.integerValue, oldestRecordAgeSeconds: spool?["oldestRecordAgeSeconds"]?.integerValue,
                droppedSinceLastHeartbeat: spool?["droppedSinceLastHeartbeat"]?.integerValue,
                droppedLast15Minutes: spool?["droppedLast15Minutes"]?.integerValue, certificateNotAfter: date(row["CertificateNotAfter"]),
                flags: [])
            // A host writes its own heartbeat: its interval is held to the agent's own range.
            let interval = TimeInterval(min(max(heartbeat?["IntervalSeconds"]?.integerValue ?? 300, 1), 86_400))
            let silence = silentAfter ?? 3 * interval
            if host.lastReceived.map({ now.timeIntervalSince($0) > silence }) ?? true { host.flags.append("silent") }
            let lag = max(host.lagSeconds ?? 0, host.oldestRecordAgeSeconds ?? 0)
            if !host.flags.contains("silent"), TimeInterval(lag) > laggingAfter { host.flags.append("lagging") }
            if max(host.droppedSinceLastHeartbeat ?? 0, host.droppedLast15Minutes ?? 0) > 0 { host.flags.append("dropping") }
            if let expiry = host.certificateNotAfter, expiry.timeIntervalSince(now) < 30 * 86_400 { host.flags.append("certificate-expiring") }
            return host
        }
    }

    public func table(now: Date) -> String {
        func ago(_ date: Date?) -> String { date.map { Self.duration(now.timeIntervalSince($0)) + " ago" } ?? "-" }
        let rows = hosts.map { host -> [String] in
            [
                host.host, ago(host.lastReceived), ago(host.lastHeartbeat), host.version ?? "-",
                host.lagSeconds.map { Self.duration(TimeInterval($0)) } ?? "-",
                host.pendingRecords.map(String.init) ?? "-", host.droppedLast15Minutes.map(String.init) ?? "-",
                host.certificateNotAfter.map { TrailTime.format($0).prefix(10).description } ?? "-",
                host.flags.isEmpty ? "ok" : host.flags.joined(separator: ","),
            ].map(IdentifierText.escapingControlCharacters)
        }
        return EventTable.aligned(
            [["HOST", "LAST RECORD", "LAST HEARTBEAT", "VERSION", "LAG", "SPOOL", "DROPS (15M)", "CERT EXPIRES", "STATUS"]] + rows
        )
        .joined(separator: "\n")
    }

    public var json: JSONValue {
        .array(
            hosts.map { host in
                var row: [String: JSONValue] = ["Host": .string(host.host), "Flags": .array(host.flags.map(JSONValue.string))]
                if let date = host.lastReceived { row["LastReceived"] = .string(TrailTime.format(date)) }
                if let date = host.lastHeartbeat { row["LastHeartbeat"] = .string(TrailTime.format(date)) }
                if let version = host.version { row["Version"] = .string(version) }
                if let lag = host.lagSeconds { row["LagSeconds"] = .integer(lag) }
                if let pending = host.pendingRecords { row["PendingRecords"] = .integer(pending) }
                if let age = host.oldestRecordAgeSeconds { row["OldestRecordAgeSeconds"] = .integer(age) }
                if let dropped = host.droppedSinceLastHeartbeat { row["DroppedSinceLastHeartbeat"] = .integer(dropped) }
                if let dropped = host.droppedLast15Minutes { row["DroppedLast15Minutes"] = .integer(dropped) }
                if let expiry = host.certificateNotAfter { row["CertificateNotAfter"] = .string(TrailTime.format(expiry)) }
                return .object(row)
            })
    }

    /// `42s`, `5m`, `3h`, `2d`.
    static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int64(max(0, seconds))
        switch whole {
        case ..<120: return "\(whole)s"
        case ..<7200: return "\(whole / 60)m"
        case ..<172_800: return "\(whole / 3600)h"
        default: return "\(whole / 86_400)d"
        }
    }
}
