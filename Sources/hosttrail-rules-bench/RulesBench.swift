// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailRules
import TrailRulesYAML

/// The rule engine's cost on one core, for `make bench`; prints one JSON line.
///
/// `hosttrail-rules-bench RULES_DIR RECORDS`: the rules in RULES_DIR (`*.yml`) over RECORDS
/// generated records (the mix bench/run.py posts: application calls, failed SSH logins from 200
/// addresses, sudo), first as JSON text parsed to envelopes (what the collector does for each
/// stored record), then evaluated; the seconds of each, and evaluations (record × rule) per second.
@main
enum RulesBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let total = Int(arguments[2]) else {
            FileHandle.standardError.write(Data("usage: hosttrail-rules-bench RULES_DIR RECORDS\n".utf8))
            exit(2)
        }
        let directory = arguments[1]
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yml") }.sorted()
        let rules = try names.map { name in
            try RuleFile.load(text: try String(contentsOfFile: directory + "/" + name, encoding: .utf8), defaultName: String(name.dropLast(4)))
        }
        let base = Int64(Date().timeIntervalSince1970) - 3600
        let texts = (0..<total).map { record($0, base: base) }
        let clock = ContinuousClock()
        var events: [RuleEvent] = []
        events.reserveCapacity(total)
        let parsing = clock.measure {
            for text in texts {
                if let json = try? JSONValue.parse(Array(text.utf8)), let event = RuleEvent(recordJSON: json, host: "bench-host") {
                    events.append(event)
                }
            }
        }
        var engine = RuleEngine(rules: rules)
        var firings = 0
        let evaluating = clock.measure {
            for event in events { firings += engine.evaluate(event).count }
        }
        let parseSeconds = Double(parsing.components.seconds) + Double(parsing.components.attoseconds) * 1e-18
        let evaluateSeconds = Double(evaluating.components.seconds) + Double(evaluating.components.attoseconds) * 1e-18
        let summary: [String: Any] = [
            "records": events.count, "rules": rules.count, "windowed": rules.filter { $0.window != nil }.count, "firings": firings,
            "parseSeconds": parseSeconds, "evaluateSeconds": evaluateSeconds,
            "evaluationsPerSecond": Double(events.count * rules.count) / evaluateSeconds,
            "recordsPerSecond": Double(events.count) / (parseSeconds + evaluateSeconds),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Record `n` of the mix: seven in ten application calls, two failed SSH logins, one sudo.
    static func record(_ n: Int, base: Int64) -> String {
        let id = String(format: "%08x-2222-4000-8000-%012x", n, n)
        let time = TrailTime.formatEpochSeconds(base + Int64(n / 50))
        let host = #""additionalEventData":{"host":{"hostname":"web-\#(n % 20)"}}"#
        switch n % 10 {
        case 7, 8:
            return
                #"{"eventVersion":"1.11","eventTime":"\#(time)","eventSource":"sshd.linux","eventName":"Login","eventID":"\#(id)","errorCode":"AuthFailure","sourceIPAddress":"198.51.100.\#(n % 200)","userIdentity":{"type":"LinuxUser","userName":"user\#(n % 50)"},"requestParameters":{"port":22},\#(host)}"#
        case 9:
            return
                #"{"eventVersion":"1.11","eventTime":"\#(time)","eventSource":"sudo.linux","eventName":"RunCommand","eventID":"\#(id)","sourceIPAddress":"localhost","userIdentity":{"type":"LinuxUser","userName":"root","sessionContext":{"sessionIssuer":{"userName":"user\#(n % 50)"}}},"requestParameters":{"command":"/usr/bin/id"},\#(host)}"#
        default:
            return
                #"{"eventVersion":"1.11","eventTime":"\#(time)","eventSource":"bench.example.com","eventName":"Ingested\#(n % 20)","eventID":"\#(id)","readOnly":false,"sourceIPAddress":"10.0.0.\#(n % 250)","userIdentity":{"type":"LinuxUser","userName":"user\#(n % 200)"},"requestParameters":{"n":\#(n)},\#(host)}"#
        }
    }
}
