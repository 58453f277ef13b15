// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// One audit record in CloudTrail's format (`eventVersion` 1.11).
///
/// The members HostTrail reads or writes are modelled; everything else a record carries (fields
/// of other CloudTrail versions, `tlsDetails`, `addendum`, …) is kept in ``otherMembers``, so a
/// record decoded from CloudTrail encodes back without losing a member. An explicit `null`
/// (`"responseElements": null`) stays `null`.
public struct CloudTrailRecord: Sendable, Hashable, Codable {
    /// The `eventVersion` HostTrail writes.
    public static let currentEventVersion = "1.11"

    public var eventVersion: String
    public var userIdentity: UserIdentity?
    /// UTC, ISO 8601, second precision: `2026-11-24T16:30:30Z`.
    public var eventTime: String
    /// Every record but an Insight has one (an Insight's is in `insightDetails`).
    public var eventSource: String?
    /// Every record but an Insight has one (an Insight's is in `insightDetails`).
    public var eventName: String?
    /// Stamped by the collector from its `region` setting.
    public var awsRegion: String?
    public var sourceIPAddress: String?
    public var userAgent: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var requestParameters: JSONValue?
    public var responseElements: JSONValue?
    public var additionalEventData: JSONValue?
    public var requestID: String?
    public var eventID: String
    public var readOnly: Bool?
    public var resources: [RecordResource]?
    public var eventType: String?
    public var apiVersion: String?
    public var managementEvent: Bool?
    /// Stamped by the collector from its `account-id` setting.
    public var recipientAccountId: String?
    public var sharedEventID: String?
    public var eventCategory: String?
    public var insightDetails: JSONValue?
    /// Members not modelled above, exactly as decoded.
    public var otherMembers: [String: JSONValue]

    public init(
        eventVersion: String = CloudTrailRecord.currentEventVersion,
        userIdentity: UserIdentity?,
        eventTime: String,
        eventSource: String?,
        eventName: String?,
        awsRegion: String? = nil,
        sourceIPAddress: String? = nil,
        userAgent: String? = nil,
        errorCode: String? = nil,
        errorMessage: String? = nil,
        requestParameters: JSONValue? = .null,
        responseElements: JSONValue? = .null,
        additionalEventData: JSONValue? = nil,
        requestID: String? = nil,
        eventID: String,
        readOnly: Bool? = nil,
        resources: [RecordResource]? = nil,
        eventType: String? = "AwsApiCall",
        apiVersion: String? = nil,
        managementEvent: Bool? = true,
        recipientAccountId: String? = nil,
        sharedEventID: String? = nil,
        eventCategory: String? = "Management",
        insightDetails: JSONValue? = nil,
        otherMembers: [String: JSONValue] = [:]
    ) {
        self.eventVersion = eventVersion
        self.userIdentity = userIdentity
        self.eventTime = eventTime
        self.eventSource = eventSource
        self.eventName = eventName
        self.awsRegion = awsRegion
        self.sourceIPAddress = sourceIPAddress
        self.userAgent = userAgent
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.requestParameters = requestParameters
        self.responseElements = responseElements
        self.additionalEventData = additionalEventData
        self.requestID = requestID
        self.eventID = eventID
        self.readOnly = readOnly
        self.resources = resources
        self.eventType = eventType
        self.apiVersion = apiVersion
        self.managementEvent = managementEvent
        self.recipientAccountId = recipientAccountId
        self.sharedEventID = sharedEventID
        self.eventCategory = eventCategory
        self.insightDetails = insightDetails
        self.otherMembers = otherMembers
    }

    /// Reads a record from its JSON object.
    ///
    /// - Throws: ``RecordFormatError`` naming the member that is missing or of the wrong type.
    public init(json: JSONValue) throws {
        var reader = try JSONMembers(json, context: "record")
        eventVersion = try reader.requiredString("eventVersion")
        userIdentity = try reader.object("userIdentity") { try UserIdentity(json: $0, context: $1) }
        eventTime = try reader.requiredString("eventTime")
        eventSource = try reader.string("eventSource")
        eventName = try reader.string("eventName")
        awsRegion = try reader.string("awsRegion")
        sourceIPAddress = try reader.string("sourceIPAddress")
        userAgent = try reader.string("userAgent")
        errorCode = try reader.string("errorCode")
        errorMessage = try reader.string("errorMessage")
        requestParameters = reader.json("requestParameters")
        responseElements = reader.json("responseElements")
        additionalEventData = reader.json("additionalEventData")
        requestID = try reader.string("requestID")
        eventID = try reader.requiredString("eventID")
        readOnly = try reader.bool("readOnly")
        resources = try reader.array("resources") { try RecordResource(json: $0, context: $1) }
        eventType = try reader.string("eventType")
        apiVersion = try reader.string("apiVersion")
        managementEvent = try reader.bool("managementEvent")
        recipientAccountId = try reader.string("recipientAccountId")
        sharedEventID = try reader.string("sharedEventID")
        eventCategory = try reader.string("eventCategory")
        insightDetails = reader.json("insightDetails")
        otherMembers = reader.remaining
    }

    /// The record as a JSON object; modelled members win over `otherMembers` of the same name.
    public var jsonValue: JSONValue {
        var members = otherMembers
        let modelled = modelledMembers
        members.reserveCapacity(members.count + modelled.count)
        for (member, value) in modelled { members[member.name] = value }
        return .object(members)
    }

    /// The value of `member`, when set: the model's side of ``CloudTrailMember``.
    func value(of member: CloudTrailMember) -> JSONValue? {
        switch member {
        case .additionalEventData: additionalEventData
        case .apiVersion: apiVersion.map(JSONValue.string)
        case .awsRegion: awsRegion.map(JSONValue.string)
        case .errorCode: errorCode.map(JSONValue.string)
        case .errorMessage: errorMessage.map(JSONValue.string)
        case .eventCategory: eventCategory.map(JSONValue.string)
        case .eventID: .string(eventID)
        case .eventName: eventName.map(JSONValue.string)
        case .eventSource: eventSource.map(JSONValue.string)
        case .eventTime: .string(eventTime)
        case .eventType: eventType.map(JSONValue.string)
        case .eventVersion: .string(eventVersion)
        case .insightDetails: insightDetails
        case .managementEvent: managementEvent.map(JSONValue.bool)
        case .readOnly: readOnly.map(JSONValue.bool)
        case .recipientAccountId: recipientAccountId.map(JSONValue.string)
        case .requestID: requestID.map(JSONValue.string)
        case .requestParameters: requestParameters
        case .resources: resources.map { JSONValue.array($0.map(\.jsonValue)) }
        case .responseElements: responseElements
        case .sharedEventID: sharedEventID.map(JSONValue.string)
        case .sourceIPAddress: sourceIPAddress.map(JSONValue.string)
        case .userAgent: userAgent.map(JSONValue.string)
        case .userIdentity: userIdentity?.jsonValue
        }
    }

    /// The modelled members that are set, in canonical order.
    var modelledMembers: [(member: CloudTrailMember, value: JSONValue)] {
        CloudTrailMember.allCases.compactMap { member in value(of: member).map { (member, $0) } }
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

// MARK: - HostTrail conventions

extension CloudTrailRecord {
    /// The host a record says it comes from: `additionalEventData.host.hostname`, else the host resource.
    public var claimedHostName: String? {
        if let name = additionalEventData?["host"]?["hostname"]?.stringValue { return name }
        return resources?.lazy.compactMap(\.hostName).first
    }

    /// The event source lookups list and filter on: the record's, or an Insight's subject
    /// (`insightDetails.eventSource`).
    public var listedEventSource: String? {
        eventSource ?? insightDetails?["eventSource"]?.stringValue
    }

    /// The event name lookups list and filter on: the record's, or an Insight's subject.
    public var listedEventName: String? {
        eventName ?? insightDetails?["eventName"]?.stringValue
    }

    /// The user the record is about, for lookups by `Username`: the account, or for sudo and su the invoking one.
    public var userNameForLookup: String? {
        userIdentity?.userName ?? userIdentity?.sessionContext?.sessionIssuer?.userName
    }

    /// Every host name the record claims, in `additionalEventData.host` and in host resources.
    public var allClaimedHostNames: [String] {
        var names: [String] = []
        if let name = additionalEventData?["host"]?["hostname"]?.stringValue { names.append(name) }
        names.append(contentsOf: resources?.compactMap(\.hostName) ?? [])
        return names
    }
}

// MARK: - Canonical JSON

extension CloudTrailRecord {
    /// The canonical JSON HostTrail stores and ships: sorted keys, unescaped slashes, no white space.
    public func canonicalJSON() throws -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        if otherMembers.isEmpty {
            var writer = CanonicalRecordWriter()
            for (member, value) in modelledMembers {
                writer.key(member, to: &output)
                value.write(to: &output)
            }
            writer.end(to: &output)
        } else {
            // Members HostTrail does not model sort in among the modelled ones, by name.
            var members = modelledMembers.map { (key: $0.member.name, value: $0.value) }
            let modelledNames = Set(members.map(\.key))
            members.append(contentsOf: otherMembers.lazy.filter { !modelledNames.contains($0.key) }.map { ($0.key, $0.value) })
            JSONValue.writeObject(&members, to: &output)
        }
        return Data(output)
    }

    /// Decodes one record from JSON.
    ///
    /// - Throws: ``JSONValue/ParseError`` or ``RecordFormatError``.
    public static func decode(from data: Data) throws -> CloudTrailRecord {
        try CloudTrailRecord(json: JSONValue.parse(data))
    }
}
