// SPDX-License-Identifier: Apache-2.0

import Foundation

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
        guard type == Self.hostType, let arn, let range = arn.range(of: ":host/", options: .backwards) else {
            return nil
        }
        return String(arn[range.upperBound...])
    }

    public init(from decoder: any Decoder) throws {
        var reader = try LosslessObjectReader(decoder)
        arn = try reader.take(String.self, "ARN")
        accountId = try reader.take(String.self, "accountId")
        type = try reader.take(String.self, "type")
        otherMembers = reader.unmodelled
    }

    public func encode(to encoder: any Encoder) throws {
        var writer = LosslessObjectWriter(encoder)
        try writer.put(arn, "ARN")
        try writer.put(accountId, "accountId")
        try writer.put(type, "type")
        try writer.putAll(otherMembers)
    }
}
