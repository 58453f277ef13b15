// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore
import TrailRulesYAML

@testable import TrailRules

/// Rule files: what loads, and what is refused with its line and reason.
struct RuleFileTests {
    @Test func aFullRuleLoads() throws {
        let rule = try RuleFile.load(
            text: """
                description: five failures from one address
                match:
                  source: [aws.sshd]
                  detail: {errorCode: [{exists: true}]}
                window: {type: event_count, group-by: [detail.sourceIPAddress], timespan: 10m, condition: {gt: 4}}
                suppress: 30m
                mode: dry-run
                actions:
                  - webhook: {url: "https://hooks.example/trail", secret-file: /etc/hosttrail/hook.key, max-attempts: 5, max-age: 1h}
                  - log: {priority: crit}
                  - exec: {command: [/usr/local/bin/block, --ttl, "600"], timeout: 5s}
                """, defaultName: "brute-force")
        #expect(rule.name == "brute-force")
        #expect(rule.mode == .dryRun)
        #expect(rule.window?.threshold == 5 && rule.window?.milliseconds == 600_000)
        #expect(rule.suppression?.milliseconds == 1_800_000)
        #expect(rule.actions.map(\.kind) == ["webhook", "log", "exec"])
        guard case .webhook(let webhook) = rule.actions[0], case .exec(let exec) = rule.actions[2] else {
            Issue.record("actions out of order")
            return
        }
        #expect(webhook.retry == RuleAction.RetryPolicy(maxAttempts: 5, maxAgeSeconds: 3600))
        #expect(exec.user == "nobody" && exec.timeoutSeconds == 5 && exec.retry.maxAttempts == 1)
    }

    /// The same rule written as JSON (what the agent reads: it links no YAML parser) loads to the
    /// same rule, and its errors say what is wrong, without a line.
    @Test func aRuleWrittenAsJSONIsTheSameRule() throws {
        let json = """
            {"name": "guessing", "match": {"detail": {"eventSource": ["sshd.linux"], "errorCode": [{"exists": true}]}},
             "window": {"type": "event_count", "group-by": ["detail.sourceIPAddress"], "timespan": "10m", "condition": {"gte": 3}},
             "suppress": "5m", "actions": [{"respond": {"response": "block", "arguments": {"address": "detail.sourceIPAddress"}}}]}
            """
        let fromJSON = try RuleFile.load(json: json, defaultName: "x")
        let fromYAML = try RuleFile.load(text: json, defaultName: "x")
        #expect(fromJSON.name == "guessing" && fromJSON.stateFingerprint == fromYAML.stateFingerprint)
        #expect(fromJSON.window?.threshold == 3 && fromJSON.actions == fromYAML.actions && fromJSON.suppression == fromYAML.suppression)
        for (text, reason) in [
            ("{\"match\": [1]}", "match: pattern: must be an object"), ("not json", "not JSON"),
            ("{\"match\": {\"source\": [\"x\"]}, \"colour\": 1}", "the rule has no colour"),
        ] {
            #expect(throws: RuleFileError.self) { try RuleFile.load(json: text, defaultName: "x") }
            do {
                _ = try RuleFile.load(json: text, defaultName: "x")
            } catch {
                #expect(error.reason.contains(reason) && error.line == nil, "\(error)")
            }
        }
    }

    @Test func aRespondActionNamesTheResponseTheHostsAndTheArguments() throws {
        let rule = try RuleFile.load(
            text: """
                match: {detail: {eventSource: [sshd.linux]}}
                actions:
                  - respond:
                      response: block-attacker
                      hosts: [web-*, db-01]
                      arguments: {address: detail.sourceIPAddress, reason: brute-force}
                      duration: 1h
                      deadline: 2m
                  - respond: {response: lock}
                """, defaultName: "r")
        #expect(
            rule.actions == [
                .respond(
                    .init(
                        response: "block-attacker", hosts: .matching(["web-*", "db-01"]),
                        arguments: ["address": "detail.sourceIPAddress", "reason": "brute-force"], seconds: 3600, deadlineSeconds: 120)),
                .respond(.init(response: "lock", hosts: .matched, arguments: [:], seconds: nil, deadlineSeconds: 300)),
            ])
        #expect(RuleAction.Respond.host("web-07", matches: ["web-*"]) && !RuleAction.Respond.host("db-02", matches: ["web-*", "db-01"]))
    }

    /// Each broken file and the line and reason it is refused with.
    @Test(arguments: [
        ("match: [1, 2]", 1, "match: pattern: must be an object"),
        ("match:\n  detail:\n    eventName: [{colour: red}]", 3, "match: detail.eventName[0]: unknown operator colour"),
        ("match: {source: [aws.sshd]}\nwindo: {}", 2, "the rule has no windo"),
        ("match: {source: [x]}\nwindow:\n  type: event_count\n  timespan: 10m\n  condition: {lt: 5}", 5, "lt cannot be decided"),
        ("match: {source: [x]}\nwindow:\n  type: sliding\n  timespan: 10m", 3, "window type sliding is not one of"),
        ("match: {source: [x]}\nwindow: {type: event_count, timespan: 10 minutes, condition: {gte: 1}}", 2, "timespan is a duration"),
        ("match: {source: [x]}\nactions:\n  - webhook: {url: http://plain.example}", 3, "https://"),
        ("match: {source: [x]}\nactions:\n  - exec: {command: rm -rf /}", 3, "absolute path"),
        ("match: {source: [x]}\nactions:\n  - exec: {command: /bin/true, user: root}", 3, "not root"),
        ("match: {source: [x]}\nactions:\n  - respond: {block-ip: {}}", 3, "respond has no block-ip"),
        ("match: {source: [x]}\nactions:\n  - respond: {arguments: {address: detail.sourceIPAddress}}", 3, "respond needs a response"),
        ("match: {source: [x]}\nactions:\n  - respond: {response: \"rm -rf\"}", 3, "respond needs a response"),
        ("match: {source: [x]}\nactions:\n  - respond: {response: block, hosts: everywhere}", 3, "hosts is matched, all"),
        ("match: {source: [x]}\nactions:\n  - respond: {response: block, hosts: [\"web 01\"]}", 3, "hosts is matched, all"),
        ("match: {source: [x]}\nactions:\n  - respond: {response: block, arguments: {address: detail..x}}", 3, "is not a path"),
        ("match: {source: [x]}\nactions:\n  - respond: {response: block, duration: 0s}", 3, "duration is from 1s"),
        ("match: {source: [x]\n", 2, "not YAML"),
        ("name: bad name\nmatch: {source: [x]}", 1, "is not 1-64 letters"),
        ("match: {source: [x]}\nwindow: {type: event_count, timespan: 9000000000000000000w, condition: {gte: 1}}", 2, "timespan is a duration"),
        ("match: {source: [x]}\nsuppress: 99999999999999999999d", 2, "suppress is a duration"),
        ("match: &a {source: [x]}\ndescription: *a", 1, "description is a string"),
        (
            "match:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                + "  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]", 2, "more than 100000 values"
        ),
    ])
    func brokenFilesNameTheirLine(text: String, line: Int, reason: String) {
        do {
            _ = try RuleFile.load(text: text, defaultName: "broken")
            Issue.record("loaded: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func aWindowedRuleNeedsAConditionAndTemporalOnesTheirEvents() {
        #expect(throws: RuleFileError.self) {
            try RuleFile.load(text: "match: {source: [x]}\nwindow: {type: event_count, timespan: 1m}", defaultName: "r")
        }
        #expect(throws: RuleFileError.self) {
            try RuleFile.load(
                text: "match: {source: [x]}\nwindow: {type: temporal_ordered, timespan: 1m, events: [{match: {a: [b]}}]}", defaultName: "r")
        }
        #expect(throws: RuleFileError.self) {
            try RuleFile.load(text: "match: {source: [x]}\nwindow: {type: value_count, timespan: 1m, condition: {gte: 2}}", defaultName: "r")
        }
    }
}
