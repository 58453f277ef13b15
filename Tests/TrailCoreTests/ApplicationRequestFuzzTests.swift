// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

/// A generative fuzz test of everything the socket does with a request body: splitting it into
/// events, validating each, building and serializing the record. Inputs are mutations of real
/// requests (bit flips, byte insertions and deletions, truncations, splices, duplicated spans,
/// interesting bytes and tokens) and random JSON documents, from a fixed seed so a failure
/// replays. Every input must end in records or an `EventValidationError`: no crash, no other
/// error, no input slower than a second, and memory that does not grow with the input count.
///
/// `make test` runs 20,000 inputs; `make fuzz` runs 1,000,000 (`HOSTTRAIL_FUZZ_INPUTS`).
struct ApplicationRequestFuzzTests {
    static let inputs = Int(ProcessInfo.processInfo.environment["HOSTTRAIL_FUZZ_INPUTS"] ?? "") ?? 20_000

    static let seeds: [String] = [
        #"{"eventName":"DeleteInvoice"}"#,
        #"{"eventSource":"billing.example.com","eventName":"DeleteInvoice","requestID":"r-1","readOnly":false,"eventTime":"2026-11-25T10:00:00.123Z","eventCategory":"Data","userIdentity":{"userName":"alice","type":"Root"},"requestParameters":{"invoiceId":"42","amounts":[1,2.5,-3e7],"nested":{"a":[{"b":null}]}},"responseElements":null,"additionalEventData":{"k":"\u00e9\n"},"errorCode":"AccessDenied","errorMessage":"no","sourceIPAddress":"203.0.113.7","userAgent":"ua/1","resources":[{"ARN":"arn:x","type":"Invoice","accountId":"1"}]}"#,
        #"{"events":[{"eventName":"A"},{"eventName":"B","eventSource":"x.example.com"},{"eventName":"C","eventTime":"2026-11-25T10:00:00+02:00"}]}"#,
        #"[{"eventName":"A"},{"eventName":"B"}]"#,
        "{\"eventName\":\"A\"}\n{\"eventName\":\"B\",\"readOnly\":true}\r\n\n{\"eventName\":\"\\ud83d\\ude00\"}\n",
        #"{"eventName":"A","eventID":"ignored","eventVersion":"1.08","recipientAccountId":"1"}"#,
    ]

    /// Bytes and tokens that reach parser corners.
    static let tokens: [[UInt8]] =
        [
            "\"", "\\", "\\u", "\\ud800", "{", "}", "[", "]", ",", ":", "null", "true", "false", "-0", "1e999", "0.0000001",
            "\"eventName\"", "\"events\"", "\"eventSource\":\"a.linux\"", "\"eventTime\":\"2026-02-30T25:61:61Z\"", "\u{0}", "\u{7f}",
            "\u{ff}", "\n", "\r", " ", "\t", "99999999999999999999999", "\"userIdentity\":{\"userName\":1}",
        ].map { Array($0.utf8) } + [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xFF, 0xFE]]

    /// SplitMix64: small, fast, and the same sequence on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ input: [UInt8], using random: inout Generator) -> [UInt8] {
        var bytes = input
        // Mostly one mutation, so many inputs stay valid enough to reach validation and records.
        for _ in 0..<[1, 1, 1, 2, 2, 4].randomElement(using: &random)! {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3: bytes = Array(bytes.prefix(position))
            case 4: bytes.insert(contentsOf: tokens.randomElement(using: &random)!, at: position)
            case 5 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &random))
            case 6:
                let other = Array(seeds.randomElement(using: &random)!.utf8)
                bytes = Array(bytes.prefix(position)) + other.suffix(Int.random(in: 0...other.count, using: &random))
            default:
                if !bytes.isEmpty { bytes[position] = tokens.randomElement(using: &random)!.first! }
            }
        }
        return bytes
    }

    /// A random JSON document, sometimes deep, sometimes event-shaped.
    static func randomJSON(depth: Int, using random: inout Generator) -> String {
        let names = ["eventName", "eventSource", "events", "eventTime", "readOnly", "requestParameters", "userIdentity", "resources", "x", ""]
        switch Int.random(in: 0..<(depth > 6 ? 4 : 7), using: &random) {
        case 0: return "null"
        case 1: return Bool.random(using: &random) ? "true" : "false"
        case 2: return String(Int64.random(in: Int64.min...Int64.max, using: &random))
        case 3:
            return "\""
                + String(
                    (0..<Int.random(in: 0..<12, using: &random)).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &random))) }
                ).replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "") + "\""
        case 4:
            return "[" + (0..<Int.random(in: 0..<4, using: &random)).map { _ in randomJSON(depth: depth + 1, using: &random) }.joined(separator: ",")
                + "]"
        case 5: return String(repeating: "[", count: depth * 100) + String(repeating: "]", count: depth * 100)
        default:
            return "{"
                + (0..<Int.random(in: 0..<5, using: &random)).map { _ in
                    "\"\(names.randomElement(using: &random)!)\":" + randomJSON(depth: depth + 1, using: &random)
                }.joined(separator: ",") + "}"
        }
    }

    /// What the socket does with one body; anything but records or an `EventValidationError` is a finding.
    static func process(_ body: [UInt8], contentType: String?, builder: ApplicationRecordBuilder, context: ApplicationRecordBuilder.RequestContext)
        throws -> Int
    {
        do {
            var built = 0
            for (index, item) in try ApplicationRequest.items(body: Data(body), contentType: contentType).enumerated() {
                do {
                    let event = try ApplicationEvent(validating: item.get(), index: index)
                    let record = try builder.record(for: event, index: index, context: context)
                    let json = try record.canonicalJSON()
                    // What the agent writes, the collector must read back.
                    _ = try CloudTrailRecord.decode(from: json)
                    built += 1
                } catch is EventValidationError {}
            }
            return built
        } catch is EventValidationError {
            return 0
        }
    }

    static func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    @Test func everyMutatedOrRandomRequestEndsInRecordsOrAClearError() throws {
        var random = Generator(state: 0x486F_7374_5472_6169)
        let builder = ApplicationRecordBuilder(
            host: HostIdentity(hostname: "fuzz", machineID: "0123456789abcdef0123456789abcdef", bootID: nil),
            claims: try EventSourceClaims(parsing: ["billing.example.com=uid:1000"], userID: { _ in nil }, groupID: { _ in nil }))
        let context = ApplicationRecordBuilder.RequestContext(
            peer: PeerCredentials(pid: 42, uid: 1001, gid: 1001, userName: "app", executable: "/usr/bin/app"), fallbackRequestID: "fuzz", now: Date())
        let seeds = Self.seeds.map { Array($0.utf8) }
        var records = 0
        var slowest: (seconds: Double, input: [UInt8]) = (0, [])
        var memoryAtTenPercent = 0
        let clock = ContinuousClock()
        for number in 0..<Self.inputs {
            if number == Self.inputs / 10 { memoryAtTenPercent = Self.residentBytes() }
            let body =
                number % 10 == 9
                ? Array(Self.randomJSON(depth: 0, using: &random).utf8)
                : Self.mutate(seeds[number % seeds.count], using: &random)
            let contentType = number % seeds.count == 4 || number % 7 == 0 ? "application/x-ndjson" : "application/json"
            let started = clock.now
            records += try Self.process(body, contentType: contentType, builder: builder, context: context)
            let seconds = Double((clock.now - started).components.attoseconds) / 1e18 + Double((clock.now - started).components.seconds)
            if seconds > slowest.seconds { slowest = (seconds, body) }
        }
        print(
            "fuzz: \(Self.inputs) inputs, \(records) records built, slowest input \(Int(slowest.seconds * 1e6)) µs, RSS \(Self.residentBytes() >> 20) MiB"
        )
        #expect(slowest.seconds < 1, "the slowest input took \(slowest.seconds) s: \(String(decoding: slowest.input.prefix(200), as: UTF8.self))")
        // Some inputs must survive mutation, or the test only exercises the first parse error.
        #expect(records > Self.inputs / 20, "\(records) records from \(Self.inputs) inputs")
        let growth = Self.residentBytes() - memoryAtTenPercent
        #expect(growth < 64 << 20, "resident memory grew \(growth >> 20) MiB over the last 90% of the inputs")
    }
}
