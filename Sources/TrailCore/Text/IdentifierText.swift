// SPDX-License-Identifier: Apache-2.0

/// The text records are indexed, looked up and listed by — event names and sources, user names,
/// addresses, request and access-key IDs — is one line of visible characters. A control character
/// there (a NUL ends the string SQLite indexes; a newline or an escape sequence rewrites a
/// terminal's listing) is refused where records come in, and escaped where the agent makes them.
public enum IdentifierText {
    /// Whether `text` holds a C0 control character or DEL (U+0000–U+001F, U+007F).
    public static func containsControlCharacter(_ text: some StringProtocol) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// `text` with each control character written as `\ooo` (octal, as sshd's logs write them),
    /// and a backslash as `\\`, so the escaped form is never mistaken for one; `text` itself when
    /// it holds neither (the usual case, at the cost of one scan).
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
