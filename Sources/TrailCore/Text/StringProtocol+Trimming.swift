// SPDX-License-Identifier: Apache-2.0

// Foundation's `trimmingCharacters(in:)` is not in FoundationEssentials, and one use of it would
// link all of Foundation and ICU into the agent (docs/ARCHITECTURE.md, "Release binaries").
// Foundation's white space is Unicode's White_Space and U+200B ZERO WIDTH SPACE (compared over
// every scalar; StringTrimmingTests checks samples against Foundation).
private let zeroWidthSpace: Character = "\u{200B}"

extension StringProtocol {
    /// The text without the leading and trailing characters for which `isTrimmed` is true.
    public func trimming(where isTrimmed: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without leading and trailing spaces and tabs (Foundation's `CharacterSet.whitespaces`).
    public func trimmingWhitespace() -> String {
        trimming { ($0.isWhitespace && !$0.isNewline) || $0 == zeroWidthSpace }
    }

    /// Without leading and trailing white space and line ends (`CharacterSet.whitespacesAndNewlines`).
    public func trimmingWhitespaceAndNewlines() -> String {
        trimming { $0.isWhitespace || $0 == zeroWidthSpace }
    }

    /// Without leading and trailing characters that occur in `characters`.
    public func trimming(charactersIn characters: String) -> String {
        trimming { characters.contains($0) }
    }
}

extension Substring {
    /// Without leading and trailing U+0020 spaces (compared by byte: no grapheme breaking).
    var trimmingSpaces: Substring {
        var bytes = utf8[...]
        while bytes.first == 32 { bytes = bytes.dropFirst() }
        while bytes.last == 32 { bytes = bytes.dropLast() }
        return self[bytes.startIndex..<bytes.endIndex]
    }
}
