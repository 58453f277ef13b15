// SPDX-License-Identifier: Apache-2.0

import Foundation

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
    public var eventSource: String
    public var eventName: String
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
        eventSource: String,
        eventName: String,
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

    public init(from decoder: any Decoder) throws {
        var reader = try LosslessObjectReader(decoder)
        eventVersion = try reader.require(String.self, "eventVersion")
        userIdentity = try reader.take(UserIdentity.self, "userIdentity")
        eventTime = try reader.require(String.self, "eventTime")
        eventSource = try reader.require(String.self, "eventSource")
        eventName = try reader.require(String.self, "eventName")
        awsRegion = try reader.take(String.self, "awsRegion")
        sourceIPAddress = try reader.take(String.self, "sourceIPAddress")
        userAgent = try reader.take(String.self, "userAgent")
        errorCode = try reader.take(String.self, "errorCode")
        errorMessage = try reader.take(String.self, "errorMessage")
        requestParameters = reader.takeJSON("requestParameters")
        responseElements = reader.takeJSON("responseElements")
        additionalEventData = reader.takeJSON("additionalEventData")
        requestID = try reader.take(String.self, "requestID")
        eventID = try reader.require(String.self, "eventID")
        readOnly = try reader.take(Bool.self, "readOnly")
        resources = try reader.take([RecordResource].self, "resources")
        eventType = try reader.take(String.self, "eventType")
        apiVersion = try reader.take(String.self, "apiVersion")
        managementEvent = try reader.take(Bool.self, "managementEvent")
        recipientAccountId = try reader.take(String.self, "recipientAccountId")
        sharedEventID = try reader.take(String.self, "sharedEventID")
        eventCategory = try reader.take(String.self, "eventCategory")
        insightDetails = reader.takeJSON("insightDetails")
        otherMembers = reader.unmodelled
    }

    public func encode(to encoder: any Encoder) throws {
        var writer = LosslessObjectWriter(encoder)
        try writer.put(eventVersion, "eventVersion")
        try writer.put(userIdentity, "userIdentity")
        try writer.put(eventTime, "eventTime")
        try writer.put(eventSource, "eventSource")
        try writer.put(eventName, "eventName")
        try writer.put(awsRegion, "awsRegion")
        try writer.put(sourceIPAddress, "sourceIPAddress")
        try writer.put(userAgent, "userAgent")
        try writer.put(errorCode, "errorCode")
        try writer.put(errorMessage, "errorMessage")
        try writer.put(requestParameters, "requestParameters")
        try writer.put(responseElements, "responseElements")
        try writer.put(additionalEventData, "additionalEventData")
        try writer.put(requestID, "requestID")
        try writer.put(eventID, "eventID")
        try writer.put(readOnly, "readOnly")
        try writer.put(resources, "resources")
        try writer.put(eventType, "eventType")
        try writer.put(apiVersion, "apiVersion")
        try writer.put(managementEvent, "managementEvent")
        try writer.put(recipientAccountId, "recipientAccountId")
        try writer.put(sharedEventID, "sharedEventID")
        try writer.put(eventCategory, "eventCategory")
        try writer.put(insightDetails, "insightDetails")
        try writer.putAll(otherMembers)
    }
}

// MARK: - HostTrail conventions

extension CloudTrailRecord {
    /// The host a record says it comes from: `additionalEventData.host.hostname`, else the host resource.
    public var claimedHostName: String? {
        if let name = additionalEventData?["host"]?["hostname"]?.stringValue { return name }
        return resources?.lazy.compactMap(\.hostName).first
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
    /// The canonical JSON HostTrail stores and ships: sorted keys, unescaped slashes.
    public func canonicalJSON() throws -> Data {
        try Self.canonicalEncoder.encode(self)
    }

    /// Decodes one record from JSON.
    public static func decode(from data: Data) throws -> CloudTrailRecord {
        try JSONDecoder().decode(CloudTrailRecord.self, from: data)
    }

    static var canonicalEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
