// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

/// `LogText` answers as the `String` operations the parsers used before it: checked on random
/// text built from the bytes that matter to them (separators, digits, signs, multi-byte characters).
struct LogTextTests {
    static let alphabet = Array(" :;()'=+-.0123456789aZé\u{301}".unicodeScalars)

    static func samples() -> [String] {
        var generator = SystemRandomNumberGenerator()
        var samples = [
            "", " ", "  ", "0", "-", "+", "+7", "-12", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
            "-9223372036854775809", "12a", " 12", "a b  c ", "''", "a'b'c'd'",
        ]
        for _ in 0..<3000 {
            let scalars = (0..<Int.random(in: 0..<24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            samples.append(String(String.UnicodeScalarView(scalars)))
        }
        return samples
    }

    @Test func splittingAndReadingNumbersAnswerAsTheStandardLibraryDoes() {
        for sample in Self.samples() {
            LogText.with(sample) { text in
                #expect(text.string == sample)
                #expect(text.integer == Int(sample), "\(sample.debugDescription)")
                for separator: UInt8 in [32, 39, 61] {
                    for maxSplits in [0, 1, 2, Int.max] {
                        for omitting in [true, false] {
                            let expected = sample.utf8.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
                                .map { String(decoding: Array($0), as: UTF8.self) }
                            let actual = text.split(separator, maxSplits: maxSplits, omittingEmptySubsequences: omitting).map(\.string)
                            #expect(actual == expected, "\(sample.debugDescription) on \(separator), \(maxSplits), \(omitting)")
                        }
                    }
                }
                let words = Array(sequence(state: text.words) { $0.next() }).map(\.string)
                #expect(words == text.split(32).map(\.string))
                let bytes = Array(sample.utf8)
                var trimmed = bytes[...]
                while trimmed.first == 32 { trimmed = trimmed.dropFirst() }
                while trimmed.last == 32 { trimmed = trimmed.dropLast() }
                #expect(text.trimmingSpaces.string == String(decoding: Array(trimmed), as: UTF8.self))
            }
        }
    }

    @Test func searchingFindsTheFirstOccurrenceOnly() {
        let needles: [StaticString] = [" : ", " ; ", "=", "é", "ab", "a"]
        for sample in Self.samples() + ["a : b : c", "x ; y", "aab", "éé"] {
            LogText.with(sample) { text in
                for needle in needles {
                    let pattern = Array(needle.withUTF8Buffer { Array($0) })
                    let bytes = Array(sample.utf8)
                    let expected = bytes.indices.first { start in
                        start + pattern.count <= bytes.count && Array(bytes[start..<(start + pattern.count)]) == pattern
                    }
                    #expect(text.range(of: needle)?.lowerBound == expected, "\(sample.debugDescription) for \(needle)")
                    #expect(text.hasPrefix(needle) == bytes.starts(with: pattern))
                    #expect(text.hasSuffix(needle) == bytes.reversed().starts(with: pattern.reversed()))
                    #expect(
                        text.after(needle)?.string
                            == (bytes.starts(with: pattern) ? String(decoding: bytes.dropFirst(pattern.count), as: UTF8.self) : nil))
                }
                // Byte-wise, unlike Foundation's `components(separatedBy:)`, which will not split " ;" from a
                // following " \u{301}" (one grapheme).
                var parts: [String] = []
                var rest = Array(sample.utf8)[...]
                let separator = Array(" ; ".utf8)
                while let start = rest.indices.first(where: { rest[$0...].starts(with: separator) }) {
                    parts.append(String(decoding: rest[..<start], as: UTF8.self))
                    rest = rest[(start + separator.count)...]
                }
                parts.append(String(decoding: rest, as: UTF8.self))
                #expect(text.components(" ; ").map(\.string) == parts)
            }
        }
    }
}
