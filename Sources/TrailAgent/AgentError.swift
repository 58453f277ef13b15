// SPDX-License-Identifier: Apache-2.0

/// An agent failure with a code, the path or URL it concerns, and the underlying error.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let spoolLocked = Code(rawValue: "spool-locked")
        public static let spoolIO = Code(rawValue: "spool-io")
        public static let socketInUse = Code(rawValue: "socket-in-use")
        public static let socketSetup = Code(rawValue: "socket-setup")
        public static let hostIdentity = Code(rawValue: "host-identity")
        public static let transport = Code(rawValue: "transport")
        public static let journal = Code(rawValue: "journal")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The file, directory or socket concerned.
    public var path: String?
    public var underlyingError: (any Error)?

    public init(_ code: Code, _ message: String, path: String? = nil, underlyingError: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlyingError = underlyingError
    }

    public var description: String {
        var text = message
        if let path { text += " (\(path))" }
        if let underlyingError { text += ": \(underlyingError)" }
        return text
    }
}
