// SPDX-License-Identifier: Apache-2.0

/// Why an application's request or one of its events was refused.
///
/// Rendered on the socket as `{"error": {"code", "message", "index", "field"}}`: `index` is the
/// event's position in the request and `field` the member at fault, when there is one.
public struct EventValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An extensible error code; the raw value is what clients see.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let malformedJSON = Code(rawValue: "MalformedJSON")
        public static let invalidRequest = Code(rawValue: "InvalidRequest")
        public static let missingField = Code(rawValue: "MissingField")
        public static let invalidFieldType = Code(rawValue: "InvalidFieldType")
        public static let invalidFieldValue = Code(rawValue: "InvalidFieldValue")
        public static let unknownField = Code(rawValue: "UnknownField")
        public static let eventTooLarge = Code(rawValue: "EventTooLarge")
        public static let tooManyEvents = Code(rawValue: "TooManyEvents")
        public static let reservedEventSource = Code(rawValue: "ReservedEventSource")
        /// The event source is claimed by other applications (``EventSourceClaims``).
        public static let eventSourceClaimed = Code(rawValue: "EventSourceClaimed")
        public static let rateLimited = Code(rawValue: "RateLimited")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The event's position in the request, for errors about one event.
    public var index: Int?
    /// The member at fault, e.g. `eventName` or `requestParameters`.
    public var field: String?

    public init(_ code: Code, _ message: String, index: Int? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.index = index
        self.field = field
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let index { text += " (event \(index))" }
        return text
    }

    /// The error body the socket sends.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if let index { members["index"] = .integer(Int64(index)) }
        if let field { members["field"] = .string(field) }
        return ["error": .object(members)]
    }
}
