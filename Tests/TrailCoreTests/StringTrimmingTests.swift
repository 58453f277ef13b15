// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

/// `TrailCore`'s trimming stands in for Foundation's `trimmingCharacters(in:)` (the agent links
/// FoundationEssentials only); it must trim what Foundation trims, and nothing else.
struct StringTrimmingTests {
    static let samples = [
        "", " ", "  a b  ", "\tkey\t", "\n value \r\n", "\u{00A0}nbsp\u{00A0}", "\u{2003}em\u{3000}", "\u{2028}line\u{2029}",
        "x", " \n ", "a\nb", "\u{85}next\u{85}", "tab\t\n", "\r\n", "é ", " 日本 ", "\u{200B}zero-width\u{200B}", "\u{0B}vt\u{0C}",
    ]

    @Test(arguments: samples)
    func whitespaceIsTrimmedAsFoundationTrimsIt(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
        #expect(text[...].trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: samples)
    func whitespaceAndNewlinesAreTrimmedAsFoundationTrimsThem(text: String) {
        #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test(arguments: ["/a/b/", "//", "(3)", " , name, ", "", "abc", "((x)"])
    func namedCharactersAreTrimmedAsFoundationTrimsThem(text: String) {
        for set in ["/", "()", " ,"] {
            #expect(text.trimming(charactersIn: set) == text.trimmingCharacters(in: CharacterSet(charactersIn: set)))
        }
    }
}
