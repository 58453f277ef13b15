// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// A stored record as rules see it: its EventBridge envelope, its event time, and where it is
/// stored (host and event ID, which name it in a match).
public struct RuleEvent: Sendable {
    public var envelope: JSONValue
    /// Milliseconds since the epoch.
    public var time: Int64
    public var eventID: String
    public var host: String

    public init(envelope: JSONValue, time: Int64, eventID: String, host: String) {
        self.envelope = envelope
        self.time = time
        self.eventID = eventID
        self.host = host
    }

    /// The event of a record's JSON, stored under `host`; `nil` when the JSON is not a record
    /// (no event ID or time).
    public init?(recordJSON json: JSONValue, host: String) {
        guard let eventID = json["eventID"]?.stringValue, let text = json["eventTime"]?.stringValue,
            let time = TrailTime.parseISO8601(text)
        else { return nil }
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var envelope = EventBridgeEnvelope.envelope(ofRecordJSON: json)
        if case .object(var members) = envelope {
            members["hosttrail"] = Self.clock(milliseconds)
            envelope = .object(members)
        }
        self.init(envelope: envelope, time: milliseconds, eventID: eventID, host: host)
    }

    /// `hosttrail`, beside EventBridge's members (a pattern written for EventBridge never names
    /// it): the event time's hour (0-23) and ISO weekday (1 Monday … 7 Sunday) in UTC, for rules
    /// about when things happen, such as installs outside a maintenance window.
    static func clock(_ milliseconds: Int64) -> JSONValue {
        let seconds = milliseconds.floorDivided(by: 1000)
        let days = seconds.floorDivided(by: 86_400)
        return [
            "hour": .integer((seconds - days * 86_400) / 3600),
            // 1970-01-01 was a Thursday.
            "weekday": .integer((days + 3).floorModulo(7) + 1),
        ]
    }

    public var record: JSONValue { envelope["detail"] ?? .null }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 { self - floorDivided(by: divisor) * divisor }
}
