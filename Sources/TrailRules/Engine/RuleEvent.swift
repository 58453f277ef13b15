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
        self.init(
            envelope: EventBridgeEnvelope.envelope(ofRecordJSON: json), time: Int64((time.timeIntervalSince1970 * 1000).rounded(.down)),
            eventID: eventID, host: host)
    }

    public var record: JSONValue { envelope["detail"] ?? .null }
}

/// A record a match names.
public struct MatchedEvent: Sendable, Hashable, Codable {
    public var host: String
    public var eventID: String
    public var time: Int64

    public init(host: String, eventID: String, time: Int64) {
        self.host = host
        self.eventID = eventID
        self.time = time
    }
}
