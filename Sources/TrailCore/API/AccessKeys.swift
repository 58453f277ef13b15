// SPDX-License-Identifier: Apache-2.0

/// One access key of the collector's query API: an id, its secret, and optionally the hosts and
/// event sources its lookups are confined to.
public struct AccessKey: Sendable, Hashable {
    public var id: String
    public var secret: String
    /// `nil`: every host.
    public var hosts: [String]?
    /// `nil`: every event source.
    public var eventSources: [String]?

    public init(id: String, secret: String, hosts: [String]? = nil, eventSources: [String]? = nil) {
        self.id = id
        self.secret = secret
        self.hosts = hosts
        self.eventSources = eventSources
    }
}

/// The access keys the collector accepts for SigV4, read from a key file (one key a line:
/// `ID SECRET [hosts=web-01,web-02] [event-sources=sshd.linux,sudo.linux]`; `#` comments) or from
/// `--access-key ID:SECRET` flags.
public struct AccessKeys: Sendable, Hashable {
    public private(set) var keys: [String: AccessKey]

    public init(_ keys: [AccessKey] = []) {
        self.keys = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    public var isEmpty: Bool { keys.isEmpty }

    public func key(id: String) -> AccessKey? { keys[id] }

    /// Why a key file line or flag cannot be used.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int?
        public var reason: String
        public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
    }

    static func checkID(_ id: Substring, line: Int?) throws(ParseError) {
        guard (1...128).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw ParseError(line: line, reason: "the access key id must be 1 to 128 letters and digits")
        }
    }

    static func checkSecret(_ secret: Substring, line: Int?) throws(ParseError) {
        guard secret.count >= 16, secret.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ParseError(line: line, reason: "the secret must be at least 16 printable ASCII characters")
        }
    }

    /// Parses a key file's text.
    public init(fileText: String) throws(ParseError) {
        var keys: [AccessKey] = []
        for (number, raw) in fileText.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !words.isEmpty else { continue }
            guard words.count >= 2 else { throw ParseError(line: number + 1, reason: "expected ID SECRET [hosts=...] [event-sources=...]") }
            try Self.checkID(words[0], line: number + 1)
            try Self.checkSecret(words[1], line: number + 1)
            var key = AccessKey(id: String(words[0]), secret: String(words[1]))
            for restriction in words.dropFirst(2) {
                let parts = restriction.split(separator: "=", maxSplits: 1)
                let values = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
                guard !values.isEmpty else { throw ParseError(line: number + 1, reason: "\"\(restriction)\" must be hosts=A,B or event-sources=A,B") }
                switch parts[0] {
                case "hosts": key.hosts = values
                case "event-sources": key.eventSources = values
                default: throw ParseError(line: number + 1, reason: "unknown restriction \"\(parts[0])\"; use hosts= or event-sources=")
                }
            }
            guard !keys.contains(where: { $0.id == key.id }) else {
                throw ParseError(line: number + 1, reason: "access key \(key.id) is listed twice")
            }
            keys.append(key)
        }
        self.init(keys)
    }

    /// Parses a credentials file for an S3-compatible bucket: one line `ACCESS_KEY_ID SECRET`
    /// (blank lines and `#` comments aside). S3 keys follow the bucket's rules, not HostTrail's.
    public static func parseCredentialsFile(_ text: String) throws(ParseError) -> AccessKey {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(whereSeparator: \.isWhitespace) }
            .filter { !$0.isEmpty && !$0[0].hasPrefix("#") }
        guard lines.count == 1 else { throw ParseError(line: nil, reason: "must hold one line: ACCESS_KEY_ID SECRET (found \(lines.count))") }
        let fields = lines[0]
        guard fields.count == 2 else { throw ParseError(line: 1, reason: "must be ACCESS_KEY_ID SECRET, two words") }
        return AccessKey(id: String(fields[0]), secret: String(fields[1]))
    }

    /// Parses `ID:SECRET` (a flag, for tests and quick starts).
    public static func parseFlag(_ text: String) throws(ParseError) -> AccessKey {
        guard let colon = text.firstIndex(of: ":") else { throw ParseError(line: nil, reason: "\"--access-key\" takes ID:SECRET") }
        let (id, secret) = (text[..<colon], text[text.index(after: colon)...])
        try checkID(id, line: nil)
        try checkSecret(secret, line: nil)
        return AccessKey(id: String(id), secret: String(secret))
    }
}
