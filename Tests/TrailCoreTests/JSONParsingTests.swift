// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

struct JSONParsingTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"null"#, #"0"#, #"-0"#, #"42"#, #"-9223372036854775808"#, #"9223372036854775808"#,
        #"1.5"#, #"-2.25e-3"#, #"1E+20"#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""é中😀""#,
        #" { "b" : [1, {"c": null}] , "a": "x" } "#, #"[[[[[]]]]]"#, #"{"k":{"k":{"k":[true,false,null,0.1]}}}"#,
    ])
    func agreesWithFoundation(document: String) throws {
        let ours = try JSONValue.parse(Data(document.utf8))
        let foundation = try JSONSerialization.jsonObject(with: Data(document.utf8), options: [.fragmentsAllowed])
        let viaOurs = try JSONSerialization.jsonObject(with: Data(ours.serialized()), options: [.fragmentsAllowed])
        #expect(
            NSDictionary(dictionary: ["v": foundation]).isEqual(to: ["v": viaOurs]),
            "\(document) → \(String(decoding: ours.serialized(), as: UTF8.self))")
        // Our own round trip is exact.
        #expect(try JSONValue.parse(ours.serialized()) == ours)
    }

    /// Integers of up to 18 digits are read without making text; longer ones through `Int64(_:)`,
    /// and past Int64 as doubles.
    @Test func integersParseExactlyAtEveryLength() throws {
        for digits in 1...19 {
            let text = String(String(repeating: "123456789", count: 3).prefix(digits))
            #expect(try JSONValue.parse(Array(text.utf8)) == .integer(Int64(text)!), "\(text)")
            #expect(try JSONValue.parse(Array(("-" + text).utf8)) == .integer(-Int64(text)!), "-\(text)")
        }
        #expect(try JSONValue.parse(Array("9223372036854775807".utf8)) == .integer(.max))
        #expect(try JSONValue.parse(Array("-9223372036854775808".utf8)) == .integer(.min))
        #expect(try JSONValue.parse(Array("9223372036854775808".utf8)) == .number(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse(Array("-0".utf8)) == .integer(0))
    }

    /// The ASCII check against the plain one at every position across word boundaries, and
    /// strings with non-ASCII bytes still validated.
    @Test func integersAreWrittenAsSwiftPrintsThem() {
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] =
            [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.min + 1]
            + (0..<2000).map { _ in Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0...63, using: &generator) }
        for number in samples {
            var output: [UInt8] = [120]
            JSONValue.writeInteger(number, to: &output)
            #expect(output == [120] + Array(String(number).utf8), "\(number)")
        }
    }

    @Test func asciiIsFoundWhereverItIsNot() throws {
        for length in 0...19 {
            for position in 0..<max(length, 1) {
                for value in [0x41, 0x7F, 0x80, 0xC3, 0xFF] as [UInt8] {
                    var bytes = [UInt8](repeating: 97, count: length)
                    if length > 0 { bytes[position] = value }
                    #expect(bytes.withUnsafeBytes { JSONParser.isASCII($0) } == bytes.allSatisfy { $0 < 0x80 })
                }
            }
        }
        #expect(try JSONValue.parse(Array("\"abcdefgh\u{e9}\"".utf8)) == .string("abcdefgh\u{e9}"))
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([34, 97, 98, 99, 100, 101, 102, 103, 104, 0xC3, 34]) }
    }

    @Test func literalsParse() throws {
        #expect(try JSONValue.parse(Data("true".utf8)) == .bool(true))
        #expect(try JSONValue.parse(Data(" false ".utf8)) == .bool(false))
        #expect(try JSONValue.parse(Data("[true,false]".utf8)).serialized() == Array("[true,false]".utf8))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'", "01", "-", "1.", "1e", ".5", "+1", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\u{01}\"", "\"\\ud800\"", "\"\\udc00x\"", "[1] [2]", "1e999", "NaN",
    ])
    func rejectsWhatIsNotJSON(document: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data(document.utf8)) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([34, 0xFF, 0xFE, 34]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data(deep.utf8)) }
        #expect(error?.message.contains("nesting") == true)
        let allowed = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONValue.parse(Data(allowed.utf8)) }
    }

    @Test func serializationIsCanonical() {
        let value: JSONValue = ["b": [1, "x/y", .null], "a": ["z": true, "y": .number(2.0)], "c": "line\nbreak \u{7}"]
        #expect(String(decoding: value.serialized(), as: UTF8.self) == #"{"a":{"y":2.0,"z":true},"b":[1,"x/y",null],"c":"line\nbreak \u0007"}"#)
    }

    /// The word-at-a-time check against the plain one, on every byte value at every position of
    /// strings long enough to cross word boundaries, and strings written with it read back.
    @Test func escapingIsFoundWhereverItIs() throws {
        func plainCheck(_ bytes: [UInt8]) -> Bool { bytes.contains { $0 < 32 || $0 == 34 || $0 == 92 } }
        for length in 0...19 {
            for position in 0..<max(length, 1) {
                for value in [0, 1, 9, 10, 31, 32, 33, 34, 35, 91, 92, 93, 126, 127, 128, 0xC3, 0xFF] as [UInt8] {
                    var bytes = [UInt8](repeating: 97, count: length)
                    if length > 0 { bytes[position] = value }
                    let found = bytes.withUnsafeBytes { JSONValue.needsEscaping($0) }
                    #expect(found == plainCheck(bytes), "length \(length), byte \(value) at \(position)")
                }
            }
        }
        for text in ["", "plain text", "tab\there", "quote \" inside a longer string", "back\\slash", "\u{01}", "é中😀 and more text", "x\ny"] {
            var output: [UInt8] = []
            JSONValue.writeString(text, to: &output)
            #expect(try JSONValue.parse(output) == .string(text), "\(text)")
        }
    }
}
