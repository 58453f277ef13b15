// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// One entry of a record's `resources` array.
///
/// Every HostTrail record names its host here, with type ``RecordResource/hostType``.
public struct RecordResource: Sendable, Hashable, Codable {
    /// The resource type of a host.
    public static let hostType = "HostTrail::Host"

    public var arn: String?
    public var accountId: String?
    public var type: String?
    public var otherMembers: [String: JSONValue]

    public init(arn: String?, accountId: String?, type: String?, otherMembers: [String: JSONValue] = [:]) {
        self.arn = arn
        self.accountId = accountId
        self.type = type
        self.otherMembers = otherMembers
    }

    /// The ARN-style name of a host: `arn:hosttrail:host:<region>:<account>:host/<hostname>`.
    public static func host(named hostname: String, accountId: String, region: String) -> RecordResource {
        RecordResource(arn: "arn:hosttrail:host:\(region):\(accountId):host/\(hostname)", accountId: accountId, type: hostType)
    }

    /// The host name of a ``hostType`` resource's ARN, or `nil`.
    public var hostName: String? {
        guard type == Self.hostType, let arn, let range = arn.ranges(of: ":host/").last else {
            return nil
        }
        return String(arn[range.upperBound...])
    }

    public init(json: JSONValue, context: String = "resource") throws {
        var reader = try JSONMembers(json, context: context)
        arn = try reader.string("ARN")
        accountId = try reader.string("accountId")
        type = try reader.string("type")
        otherMembers = reader.remaining
    }

    public var jsonValue: JSONValue {
        var members = otherMembers
        members.set("ARN", arn)
        members.set("accountId", accountId)
        members.set("type", type)
        return .object(members)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}
