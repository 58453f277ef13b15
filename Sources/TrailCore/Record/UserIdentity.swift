// SPDX-License-Identifier: Apache-2.0

/// Who did it: CloudTrail's `userIdentity`.
///
/// For a local Linux account `type` is ``UserIdentity/linuxUser``, `principalId` the uid and
/// `userName` the account name. Members CloudTrail defines that HostTrail does not model yet are
/// kept in ``otherMembers`` and encoded back unchanged.
public struct UserIdentity: Sendable, Hashable, Codable {
    /// The identity type of a local Linux account.
    public static let linuxUser = "LinuxUser"

    public var type: String
    public var principalId: String?
    public var arn: String?
    public var accountId: String?
    public var accessKeyId: String?
    public var userName: String?
    public var invokedBy: String?
    public var sessionContext: SessionContext?
    /// Members not modelled above, exactly as decoded.
    public var otherMembers: [String: JSONValue]

    public init(
        type: String,
        principalId: String? = nil,
        arn: String? = nil,
        accountId: String? = nil,
        accessKeyId: String? = nil,
        userName: String? = nil,
        invokedBy: String? = nil,
        sessionContext: SessionContext? = nil,
        otherMembers: [String: JSONValue] = [:]
    ) {
        self.type = type
        self.principalId = principalId
        self.arn = arn
        self.accountId = accountId
        self.accessKeyId = accessKeyId
        self.userName = userName
        self.invokedBy = invokedBy
        self.sessionContext = sessionContext
        self.otherMembers = otherMembers
    }

    public init(json: JSONValue, context: String = "userIdentity") throws {
        var reader = try JSONMembers(json, context: context)
        type = try reader.string("type") ?? "Unknown"
        principalId = try reader.string("principalId")
        arn = try reader.string("arn")
        accountId = try reader.string("accountId")
        accessKeyId = try reader.string("accessKeyId")
        userName = try reader.string("userName")
        invokedBy = try reader.string("invokedBy")
        sessionContext = try reader.object("sessionContext") { try SessionContext(json: $0, context: $1) }
        otherMembers = reader.remaining
    }

    public var jsonValue: JSONValue {
        var members = otherMembers
        members.set("type", type)
        members.set("principalId", principalId)
        members.set("arn", arn)
        members.set("accountId", accountId)
        members.set("accessKeyId", accessKeyId)
        members.set("userName", userName)
        members.set("invokedBy", invokedBy)
        members.set("sessionContext", sessionContext?.jsonValue)
        return .object(members)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// CloudTrail's `userIdentity.sessionContext`.
///
/// HostTrail uses ``sessionIssuer`` for the invoking user of sudo and su, and ``sourceIdentity``
/// for the end user an application says it acted for (an assertion, never a verified identity).
public struct SessionContext: Sendable, Hashable, Codable {
    public var sessionIssuer: SessionIssuer?
    public var sourceIdentity: String?
    public var attributes: JSONValue?
    public var otherMembers: [String: JSONValue]

    public init(
        sessionIssuer: SessionIssuer? = nil,
        sourceIdentity: String? = nil,
        attributes: JSONValue? = nil,
        otherMembers: [String: JSONValue] = [:]
    ) {
        self.sessionIssuer = sessionIssuer
        self.sourceIdentity = sourceIdentity
        self.attributes = attributes
        self.otherMembers = otherMembers
    }

    public init(json: JSONValue, context: String = "sessionContext") throws {
        var reader = try JSONMembers(json, context: context)
        sessionIssuer = try reader.object("sessionIssuer") { try SessionIssuer(json: $0, context: $1) }
        sourceIdentity = try reader.string("sourceIdentity")
        attributes = reader.json("attributes")
        otherMembers = reader.remaining
    }

    public var jsonValue: JSONValue {
        var members = otherMembers
        members.set("sessionIssuer", sessionIssuer?.jsonValue)
        members.set("sourceIdentity", sourceIdentity)
        members.set("attributes", attributes)
        return .object(members)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// CloudTrail's `sessionContext.sessionIssuer`: for sudo and su, the invoking user.
public struct SessionIssuer: Sendable, Hashable, Codable {
    public var type: String?
    public var principalId: String?
    public var arn: String?
    public var accountId: String?
    public var userName: String?
    public var otherMembers: [String: JSONValue]

    public init(
        type: String? = nil,
        principalId: String? = nil,
        arn: String? = nil,
        accountId: String? = nil,
        userName: String? = nil,
        otherMembers: [String: JSONValue] = [:]
    ) {
        self.type = type
        self.principalId = principalId
        self.arn = arn
        self.accountId = accountId
        self.userName = userName
        self.otherMembers = otherMembers
    }

    public init(json: JSONValue, context: String = "sessionIssuer") throws {
        var reader = try JSONMembers(json, context: context)
        type = try reader.string("type")
        principalId = try reader.string("principalId")
        arn = try reader.string("arn")
        accountId = try reader.string("accountId")
        userName = try reader.string("userName")
        otherMembers = reader.remaining
    }

    public var jsonValue: JSONValue {
        var members = otherMembers
        members.set("type", type)
        members.set("principalId", principalId)
        members.set("arn", arn)
        members.set("accountId", accountId)
        members.set("userName", userName)
        return .object(members)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}
