// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// CloudTrail's `LookupEvents` request (JSON 1.1), as botocore sends it.
///
/// HostTrail accepts several lookup attributes at once (they are ANDed) and two more keys,
/// `Host` and `SourceIPAddress`. Times arrive as epoch seconds (integer or fractional) or ISO 8601 strings.
public struct LookupEventsRequest: Sendable, Hashable, Codable {
    public var lookupAttributes: [LookupAttribute]?
    public var startTime: Date?
    public var endTime: Date?
    public var eventCategory: String?
    public var maxResults: Int?
    public var nextToken: String?

    public init(
        lookupAttributes: [LookupAttribute]? = nil,
        startTime: Date? = nil,
        endTime: Date? = nil,
        eventCategory: String? = nil,
        maxResults: Int? = nil,
        nextToken: String? = nil
    ) {
        self.lookupAttributes = lookupAttributes
        self.startTime = startTime
        self.endTime = endTime
        self.eventCategory = eventCategory
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case lookupAttributes = "LookupAttributes"
        case startTime = "StartTime"
        case endTime = "EndTime"
        case eventCategory = "EventCategory"
        case maxResults = "MaxResults"
        case nextToken = "NextToken"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lookupAttributes = try container.decodeIfPresent([LookupAttribute].self, forKey: .lookupAttributes)
        startTime = try Self.decodeTime(container, .startTime)
        endTime = try Self.decodeTime(container, .endTime)
        eventCategory = try container.decodeIfPresent(String.self, forKey: .eventCategory)
        maxResults = try container.decodeIfPresent(Int.self, forKey: .maxResults)
        nextToken = try container.decodeIfPresent(String.self, forKey: .nextToken)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(lookupAttributes, forKey: .lookupAttributes)
        // As botocore: integer epoch seconds.
        try container.encodeIfPresent(startTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) }, forKey: .startTime)
        try container.encodeIfPresent(endTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) }, forKey: .endTime)
        try container.encodeIfPresent(eventCategory, forKey: .eventCategory)
        try container.encodeIfPresent(maxResults, forKey: .maxResults)
        try container.encodeIfPresent(nextToken, forKey: .nextToken)
    }

    static func decodeTime(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Date? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        func date(_ seconds: Double) throws -> Date {
            guard TrailTime.isRepresentable(epochSeconds: seconds) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "\(key.rawValue) \(seconds) is outside years 0001 to 9999")
            }
            return Date(timeIntervalSince1970: seconds)
        }
        if let seconds = try? container.decode(Double.self, forKey: key) {
            return try date(seconds)
        }
        let text = try container.decode(String.self, forKey: key)
        if let seconds = Double(text) { return try date(seconds) }
        guard let date = TrailTime.parseISO8601(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(key.rawValue) \"\(text)\" is neither epoch seconds nor ISO 8601")
        }
        return date
    }
}

/// One `{AttributeKey, AttributeValue}` filter.
public struct LookupAttribute: Sendable, Hashable, Codable {
    public var attributeKey: String
    public var attributeValue: String

    public init(key: LookupAttributeKey, value: String) {
        self.attributeKey = key.rawValue
        self.attributeValue = value
    }

    enum CodingKeys: String, CodingKey {
        case attributeKey = "AttributeKey"
        case attributeValue = "AttributeValue"
    }
}

/// The lookup attribute keys: CloudTrail's eight and HostTrail's `Host` and `SourceIPAddress`.
public enum LookupAttributeKey: String, Sendable, CaseIterable {
    case eventId = "EventId"
    case eventName = "EventName"
    case readOnly = "ReadOnly"
    case username = "Username"
    case resourceType = "ResourceType"
    case resourceName = "ResourceName"
    case eventSource = "EventSource"
    case accessKeyId = "AccessKeyId"
    case host = "Host"
    case sourceIPAddress = "SourceIPAddress"
}
