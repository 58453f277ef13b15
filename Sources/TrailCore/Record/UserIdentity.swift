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

    public init(from decoder: any Decoder) throws {
        var reader = try LosslessObjectReader(decoder)
        type = try reader.take(String.self, "type") ?? "Unknown"
        principalId = try reader.take(String.self, "principalId")
        arn = try reader.take(String.self, "arn")
        accountId = try reader.take(String.self, "accountId")
        accessKeyId = try reader.take(String.self, "accessKeyId")
        userName = try reader.take(String.self, "userName")
        invokedBy = try reader.take(String.self, "invokedBy")
        sessionContext = try reader.take(SessionContext.self, "sessionContext")
        otherMembers = reader.unmodelled
    }

    public func encode(to encoder: any Encoder) throws {
        var writer = LosslessObjectWriter(encoder)
        try writer.put(type, "type")
        try writer.put(principalId, "principalId")
        try writer.put(arn, "arn")
        try writer.put(accountId, "accountId")
        try writer.put(accessKeyId, "accessKeyId")
        try writer.put(userName, "userName")
        try writer.put(invokedBy, "invokedBy")
        try writer.put(sessionContext, "sessionContext")
        try writer.putAll(otherMembers)
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

    public init(from decoder: any Decoder) throws {
        var reader = try LosslessObjectReader(decoder)
        sessionIssuer = try reader.take(SessionIssuer.self, "sessionIssuer")
        sourceIdentity = try reader.take(String.self, "sourceIdentity")
        attributes = reader.takeJSON("attributes")
        otherMembers = reader.unmodelled
    }

    public func encode(to encoder: any Encoder) throws {
        var writer = LosslessObjectWriter(encoder)
        try writer.put(sessionIssuer, "sessionIssuer")
        try writer.put(sourceIdentity, "sourceIdentity")
        try writer.put(attributes, "attributes")
        try writer.putAll(otherMembers)
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

    public init(from decoder: any Decoder) throws {
        var reader = try LosslessObjectReader(decoder)
        type = try reader.take(String.self, "type")
        principalId = try reader.take(String.self, "principalId")
        arn = try reader.take(String.self, "arn")
        accountId = try reader.take(String.self, "accountId")
        userName = try reader.take(String.self, "userName")
        otherMembers = reader.unmodelled
    }

    public func encode(to encoder: any Encoder) throws {
        var writer = LosslessObjectWriter(encoder)
        try writer.put(type, "type")
        try writer.put(principalId, "principalId")
        try writer.put(arn, "arn")
        try writer.put(accountId, "accountId")
        try writer.put(userName, "userName")
        try writer.putAll(otherMembers)
    }
}
