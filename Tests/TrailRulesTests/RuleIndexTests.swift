// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore
import TrailRulesYAML

@testable import TrailRules

/// The index only leaves out rules that cannot match: every rule that matches a record is among
/// its candidates, over patterns with arrays, nesting, `$or` and Sigma logsources.
struct RuleIndexTests {
    static let patterns = [
        "match: {detail: {eventSource: [sshd.linux, su.linux]}}",
        "match: {detail: {eventName: [Login], errorCode: [{exists: true}]}}",
        "match: {source: [aws.sudo], detail: {requestParameters: {command: [/bin/sh]}}}",
        "match: {detail: {$or: [{eventSource: [sshd.linux]}, {eventName: [RunCommand]}]}}",
        "match: {detail: {tags: [prod]}}",
        "match: {detail: {resources: {type: [Host]}}}",
        "match: {detail: {sourceIPAddress: [{cidr: 10.0.0.0/8}]}}",
        "match: {detail: {eventSource: [{prefix: sshd}]}}",
        "title: t\nlogsource: {product: linux, service: sudo}\ndetection: {s: {CommandLine|contains: sh}, condition: s}",
    ]

    static let events: [JSONValue] = [
        ["eventSource": "sshd.linux", "eventName": "Login", "errorCode": "AuthFailure", "sourceIPAddress": "10.1.2.3"],
        ["eventSource": "sudo.linux", "eventName": "RunCommand", "requestParameters": ["command": "/bin/sh"]],
        ["eventSource": "su.linux", "eventName": "SwitchUser", "tags": ["dev", "prod"]],
        ["eventSource": "app.example.com", "eventName": "Login", "resources": [["type": "Host"], ["type": "Other"]]],
        ["eventSource": ["sshd.linux", "x"], "eventName": ["Login"]],
        ["eventSource": 5, "eventName": .null],
    ]

    @Test func everyMatchingRuleIsACandidate() throws {
        let rules = try Self.patterns.enumerated().map { try RuleFile.load(text: $1, defaultName: "r\($0)") }
        let index = RuleIndex(rules)
        var matched = 0
        for (number, detail) in Self.events.enumerated() {
            var record = detail.objectValue ?? [:]
            record["eventID"] = .string("e\(number)")
            record["eventTime"] = "2027-01-04T10:00:00Z"
            let event = try #require(RuleEvent(recordJSON: .object(record), host: "h"))
            let candidates = Set(index.candidates(for: event.envelope))
            for (position, rule) in rules.enumerated() where rule.matcher.matches(event) {
                matched += 1
                #expect(candidates.contains(position), "rule \(position) matches event \(number) but is not a candidate")
            }
        }
        #expect(matched >= 12)
        // And it leaves rules out: an application call is not a candidate for sshd's rule.
        let other = try #require(
            RuleEvent(recordJSON: ["eventID": "x", "eventTime": "2027-01-04T10:00:00Z", "eventSource": "app.example.com"], host: "h"))
        #expect(!index.candidates(for: other.envelope).contains(0))
    }
}
