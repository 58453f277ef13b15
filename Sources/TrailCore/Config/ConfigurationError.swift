// SPDX-License-Identifier: Apache-2.0

/// A configuration that cannot be used, and exactly why: the file, the key and the reason.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let unreadableFile = Code(rawValue: "unreadable-file")
        public static let syntax = Code(rawValue: "syntax")
        public static let unknownKey = Code(rawValue: "unknown-key")
        public static let wrongType = Code(rawValue: "wrong-type")
        public static let invalidValue = Code(rawValue: "invalid-value")
        public static let missingValue = Code(rawValue: "missing-value")
        public var description: String { rawValue }
    }

    public var code: Code
    /// The file the value came from, or `nil` for a command-line flag or a default.
    public var file: String?
    /// The key (also the flag's name without `--`).
    public var key: String?
    public var reason: String

    public init(_ code: Code, file: String? = nil, key: String? = nil, reason: String) {
        self.code = code
        self.file = file
        self.key = key
        self.reason = reason
    }

    /// `agent.toml: key "spool-dir": must be a string, got an integer`.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let key { parts.append(file == nil ? "--\(key)" : "key \"\(key)\"") }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}
