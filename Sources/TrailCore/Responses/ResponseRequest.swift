// SPDX-License-Identifier: Apache-2.0

/// What a collector asks of a host: a response the host defines, by name, with arguments. It
/// carries the rule and the events behind it, so every record of what the host did names them.
public struct ResponseRequest: Sendable, Hashable, Codable {
    /// Unique per request: a request delivered twice is performed once.
    public var id: String
    /// A ``ResponseDefinition``'s name.
    public var response: String
    /// `address` for block-address, `account` for lock-account; command responses pass them on.
    public var arguments: [String: String]
    /// How long (seconds); the definition's default when absent.
    public var seconds: Int64?
    /// After it (seconds since the epoch) the request is stale and not performed.
    public var deadline: Int64
    public var rule: String?
    public var eventIDs: [String]
    /// Set on a revert: the ID of the request whose response is undone (`hosttrail responses
    /// revert`). The host undoes only what it did itself; its own definitions are not consulted.
    public var reverts: String?

    public init(
        id: String, response: String, arguments: [String: String], seconds: Int64? = nil, deadline: Int64, rule: String? = nil,
        eventIDs: [String] = [], reverts: String? = nil
    ) {
        self.id = id
        self.response = response
        self.arguments = arguments
        self.seconds = seconds
        self.deadline = deadline
        self.rule = rule
        self.eventIDs = eventIDs
        self.reverts = reverts
    }
}

/// What a host decides about a request: what to do, resolved and bounded, or why not.
public enum ResponseDecision: Sendable, Hashable {
    case perform(ResponseAction)
    /// `errorCode` and message of the refusal's record.
    case refuse(code: String, reason: String)
}

/// A response resolved against its definition: everything the host will do, and for how long.
public struct ResponseAction: Sendable, Hashable, Codable {
    public enum Target: Sendable, Hashable, Codable {
        /// The address in its canonical text.
        case address(String)
        case account(name: String, uid: UInt32)
        case command(argv: [String], revert: [String], timeoutSeconds: Int)

        /// The kind of response that resolves to this target.
        public var kind: ResponseDefinition.Kind {
            switch self {
            case .address: .blockAddress
            case .account: .lockAccount
            case .command: .command
            }
        }
    }

    public var request: ResponseRequest
    public var target: Target
    public var seconds: Int64
    /// The request's place among this target's responses (1 for the first): what escalation counted.
    public var offence: Int

    public init(request: ResponseRequest, target: Target, seconds: Int64, offence: Int) {
        self.request = request
        self.target = target
        self.seconds = seconds
        self.offence = offence
    }
}
