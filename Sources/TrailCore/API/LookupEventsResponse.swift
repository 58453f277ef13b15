// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// CloudTrail's `LookupEvents` response: newest first, with an opaque `NextToken` while more remain.
public struct LookupEventsResponse: Sendable, Hashable, Codable {
    public var events: [LookupEvent]
    public var nextToken: String?

    public init(events: [LookupEvent], nextToken: String?) {
        self.events = events
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case events = "Events"
        case nextToken = "NextToken"
    }
}

/// One event of a `LookupEvents` response. `ReadOnly` is a string here (a boolean in the record),
/// `EventTime` epoch seconds, and `CloudTrailEvent` the whole record as a JSON string.
public struct LookupEvent: Sendable, Hashable, Codable {
    public var eventId: String
    /// An Insight's is the name it is about (`insightDetails.eventName`), as CloudTrail lists it.
    public var eventName: String?
    public var readOnly: String?
    public var accessKeyId: String?
    public var eventTime: Double
    public var eventSource: String?
    public var username: String?
    public var resources: [LookupResource]
    public var cloudTrailEvent: String

    public init(record: CloudTrailRecord, canonicalJSON: String) {
        eventId = record.eventID
        eventName = record.listedEventName
        readOnly = record.readOnly.map { $0 ? "true" : "false" }
        accessKeyId = record.userIdentity?.accessKeyId
        eventTime = TrailTime.parseISO8601(record.eventTime)?.timeIntervalSince1970 ?? 0
        eventSource = record.listedEventSource
        username = record.userNameForLookup
        resources = (record.resources ?? []).map { LookupResource(resourceType: $0.type, resourceName: $0.arn) }
        cloudTrailEvent = canonicalJSON
    }

    enum CodingKeys: String, CodingKey {
        case eventId = "EventId"
        case eventName = "EventName"
        case readOnly = "ReadOnly"
        case accessKeyId = "AccessKeyId"
        case eventTime = "EventTime"
        case eventSource = "EventSource"
        case username = "Username"
        case resources = "Resources"
        case cloudTrailEvent = "CloudTrailEvent"
    }
}

public struct LookupResource: Sendable, Hashable, Codable {
    public var resourceType: String?
    public var resourceName: String?

    public init(resourceType: String?, resourceName: String?) {
        self.resourceType = resourceType
        self.resourceName = resourceName
    }

    enum CodingKeys: String, CodingKey {
        case resourceType = "ResourceType"
        case resourceName = "ResourceName"
    }
}

/// A CloudTrail API error as JSON 1.1 services send it: `{"__type": code, "message": text}`, HTTP 400.
public struct CloudTrailAPIError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var type: String
    public var message: String

    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case type = "__type"
        case message
    }

    public var description: String { "\(type): \(message)" }

    public static func invalidLookupAttributes(_ message: String) -> Self {
        .init(type: "InvalidLookupAttributesException", message: message)
    }
    public static func invalidTimeRange(_ message: String) -> Self {
        .init(type: "InvalidTimeRangeException", message: message)
    }
    public static func invalidMaxResults(_ message: String) -> Self {
        .init(type: "InvalidMaxResultsException", message: message)
    }
    public static func invalidNextToken(_ message: String) -> Self {
        .init(type: "InvalidNextTokenException", message: message)
    }
    public static func invalidEventCategory(_ message: String) -> Self {
        .init(type: "InvalidEventCategoryException", message: message)
    }
}
