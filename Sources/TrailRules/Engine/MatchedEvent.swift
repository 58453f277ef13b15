// SPDX-License-Identifier: Apache-2.0

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
