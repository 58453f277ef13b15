// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Host certificates the collector no longer accepts, by subject CN or serial number.
///
/// The file has one entry a line: `cn:web-03`, `serial:4a:3f:09` (hex, colons and case ignored),
/// or a bare name (a CN); `#` starts a comment.
public struct RevocationList: Sendable, Hashable {
    public private(set) var commonNames: Set<String> = []
    public private(set) var serialNumbers: Set<String> = []

    public init() {}

    /// Why a revocation file cannot be used.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public init(fileText: String) throws(ParseError) {
        for (number, raw) in fileText.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let entry = (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            if entry.hasPrefix("serial:") {
                let serial = Self.normalizedSerial(String(entry.dropFirst("serial:".count)))
                guard !serial.isEmpty, serial.allSatisfy(\.isHexDigit) else {
                    throw ParseError(line: number + 1, reason: "\"\(entry)\" is not a hexadecimal serial number")
                }
                serialNumbers.insert(serial)
            } else {
                let name = entry.hasPrefix("cn:") ? String(entry.dropFirst(3)) : entry
                guard !name.isEmpty, !name.contains(" ") else { throw ParseError(line: number + 1, reason: "\"\(entry)\" is not a host name") }
                commonNames.insert(name)
            }
        }
    }

    /// Lower-case hex without separators or leading zeros, so `0A:1b` and `a1b` compare equal.
    static func normalizedSerial(_ text: String) -> String {
        let hex = text.lowercased().filter { $0 != ":" && $0 != " " }
        let trimmed = hex.drop { $0 == "0" }
        return trimmed.isEmpty && !hex.isEmpty ? "0" : String(trimmed)
    }

    public func revokes(commonName: String, serialNumber: String) -> Bool {
        commonNames.contains(commonName) || serialNumbers.contains(Self.normalizedSerial(serialNumber))
    }

    public var count: Int { commonNames.count + serialNumbers.count }
}
