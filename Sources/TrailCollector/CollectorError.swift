// SPDX-License-Identifier: Apache-2.0

/// A collector failure with a code, context and the underlying error.
public struct CollectorError: Error, Sendable, CustomStringConvertible {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let storeUnavailable = Code(rawValue: "store-unavailable")
        public static let tlsSetup = Code(rawValue: "tls-setup")
        public static let listen = Code(rawValue: "listen")
        public static let invalidConfiguration = Code(rawValue: "invalid-configuration")
        public static let archiveUnavailable = Code(rawValue: "archive-unavailable")
        public static let invalidRules = Code(rawValue: "invalid-rules")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The file or address concerned.
    public var context: String?
    public var underlyingError: (any Error)?

    public init(_ code: Code, _ message: String, context: String? = nil, underlyingError: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlyingError = underlyingError
    }

    public var description: String {
        var text = message
        if let context { text += " (\(context))" }
        if let underlyingError { text += ": \(underlyingError)" }
        return text
    }
}
