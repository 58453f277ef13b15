// SPDX-License-Identifier: Apache-2.0

/// The text records are indexed, looked up and listed by — event names and sources, user names,
/// addresses, request and access-key IDs — is one line of visible characters. A control character
/// there (a NUL ends the string SQLite indexes; a newline or an escape sequence rewrites a
/// terminal's listing) is refused where records come in, and escaped where the agent makes them.
public enum IdentifierText {
    /// Whether `text` holds a C0 control character or DEL (U+0000–U+001F, U+007F); with
    /// `allowingLineBreaks`, tab, CR and LF do not count (free text such as an error message).
    public static func containsControlCharacter(_ text: some StringProtocol, allowingLineBreaks: Bool = false) -> Bool {
        text.utf8.contains {
            ($0 < 0x20 || $0 == 0x7F) && !(allowingLineBreaks && ($0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r")))
        }
    }

    /// `text` with each control character written as `\ooo` (octal, as sshd's logs write them)
    /// and each backslash as `\\`; `text` itself when it holds no control character (the usual
    /// case, at the cost of one scan). A literal `\033` in a text without control characters stays
    /// as it is, so it reads like an escaped ESC (sshd's own escaping does the same): this makes
    /// text safe to index and to print on one line, not reversible. (Other Unicode line and
    /// format characters, U+2028 or bidi controls, pass: displays escape what they show.)
    public static func escapingControlCharacters(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if byte < 0x20 || byte == 0x7F {
                escaped += [92, 48 + (byte >> 6), 48 + ((byte >> 3) & 7), 48 + (byte & 7)]
            } else if byte == 92 {
                escaped += [92, 92]
            } else {
                escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}
