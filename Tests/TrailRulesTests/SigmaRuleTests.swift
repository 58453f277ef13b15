// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore
import TrailRulesYAML

@testable import TrailRules

/// Sigma rules written for these tests in the specification's format, with the records they match.
struct SigmaRuleTests {
    static func event(_ detail: [String: JSONValue], host: String = "web-01") -> RuleEvent {
        var detail = detail
        detail["eventID"] = .string("e-\(detail.count)-\(detail["sourceIPAddress"]?.stringValue ?? "")-\(detail["eventTime"]?.stringValue ?? "")")
        if detail["eventTime"] == nil { detail["eventTime"] = "2027-01-15T10:00:00Z" }
        detail["additionalEventData"] = ["host": ["hostname": .string(host)]]
        return RuleEvent(recordJSON: .object(detail), host: host)!
    }

    static let cloudTrail = """
        title: S3 bucket deleted by someone other than the automation
        id: 6c6a8d2e-0000-4000-8000-000000000001
        status: test
        logsource:
          product: aws
          service: cloudtrail
        detection:
          selection:
            eventSource: s3.amazonaws.com
            eventName:
              - DeleteBucket
              - DeleteBucketPolicy
          success:
            errorCode: null
          filter_automation:
            userIdentity.arn|endswith: ':role/deployer'
          filter_internal:
            sourceIPAddress|cidr: 10.0.0.0/8
          condition: selection and success and not 1 of filter_*
        level: high
        """

    @Test func cloudTrailFieldsAreTheRecordsOwn() throws {
        let rule = try RuleFile.load(text: Self.cloudTrail, defaultName: "s3-delete")
        let base: [String: JSONValue] = [
            "eventSource": "s3.amazonaws.com", "eventName": "deletebucket", "sourceIPAddress": "203.0.113.4",
            "userIdentity": ["arn": "arn:aws:iam::1:user/mallory"],
        ]
        #expect(rule.matcher.matches(Self.event(base)))  // values compare without case
        var failed = base
        failed["errorCode"] = "AccessDenied"
        #expect(!rule.matcher.matches(Self.event(failed)))
        var automation = base
        automation["userIdentity"] = ["arn": "arn:aws:iam::1:ROLE/Deployer"]
        #expect(!rule.matcher.matches(Self.event(automation)))
        var inside = base
        inside["sourceIPAddress"] = "10.2.3.4"
        #expect(!rule.matcher.matches(Self.event(inside)))
        var other = base
        other["eventName"] = "PutObject"
        #expect(!rule.matcher.matches(Self.event(other)))
    }

    @Test func modifiersAndConditions() throws {
        let rule = try RuleFile.load(
            text: """
                title: sudo to a shell
                logsource: {product: linux, service: sudo}
                detection:
                  shell:
                    CommandLine|endswith: ['/bash', '/sh', '/zsh']
                  interactive:
                    CommandLine|contains|all: ['-i', 'su']
                  odd:
                    CommandLine|re: '^/tmp/[a-z]+$'
                  dash:
                    CommandLine|windash|contains: ' -s '
                  keyed:
                    - user: 'svc_*'
                    - user: 'b?b'
                  condition: (shell or interactive or odd or dash) and not keyed
                """, defaultName: "sudo-shell")
        func sudo(_ command: String, user: String = "alice", source: String = "sudo.linux") -> RuleEvent {
            Self.event([
                "eventSource": .string(source), "eventName": "RunCommand", "userIdentity": ["userName": .string(user)],
                "requestParameters": ["command": .string(command)],
            ])
        }
        #expect(rule.matcher.matches(sudo("/usr/bin/BASH")))
        #expect(rule.matcher.matches(sudo("/usr/bin/su -i")))
        #expect(!rule.matcher.matches(sudo("/usr/bin/su")))
        #expect(rule.matcher.matches(sudo("/tmp/payload")))
        #expect(!rule.matcher.matches(sudo("/tmp/Payload1")))
        #expect(rule.matcher.matches(sudo("/usr/bin/env /s x")))
        #expect(!rule.matcher.matches(sudo("/bin/bash", user: "svc_backup")))
        #expect(!rule.matcher.matches(sudo("/bin/bash", user: "bob")))
        #expect(rule.matcher.matches(sudo("/bin/bash", user: "bobby")))
        // The logsource limits the rule to sudo's records.
        #expect(!rule.matcher.matches(sudo("/bin/bash", source: "su.linux")))
    }

    @Test func aCorrelationCountsItsRulesMatches() throws {
        let rule = try RuleFile.load(
            text: """
                title: failed SSH login
                name: sshd-failed
                logsource: {product: linux, service: sshd}
                detection:
                  selection:
                    outcome|exists: true
                  condition: selection
                ---
                title: SSH brute force across the fleet
                name: sshd-brute-force-fleet
                correlation:
                  type: value_count
                  rules: sshd-failed
                  group-by: [client_ip]
                  timespan: 15m
                  condition:
                    field: host
                    gte: 3
                """, defaultName: "fleet")
        #expect(rule.name == "sshd-brute-force-fleet")
        // A correlation that would also make its rules fire on their own is refused, however written.
        for value in ["true", "yes", "on"] {
            #expect(throws: RuleFileError.self) {
                try RuleFile.load(
                    text: "title: f\nname: f\nlogsource: {product: linux, service: sshd}\ndetection: {s: {outcome|exists: true}, condition: s}\n---\n"
                        + "title: c\ncorrelation: {type: event_count, rules: f, timespan: 5m, condition: {gte: 2}, generate: \(value)}\n",
                    defaultName: "c")
            }
        }
        var engine = RuleEngine(rules: [rule])
        var firings: [RuleFiring] = []
        for (index, host) in ["a", "b", "b", "c"].enumerated() {
            firings += engine.evaluate(
                Self.event(
                    [
                        "eventSource": "sshd.linux", "eventName": "Login", "errorCode": "AuthFailure", "sourceIPAddress": "192.0.2.7",
                        "eventTime": .string("2027-01-15T10:0\(index):00Z"),
                    ], host: host))
        }
        #expect(firings.count == 1)
        #expect(firings.first?.groupKey == ["detail.sourceIPAddress": "192.0.2.7"])
    }

    /// What the mapping cannot express, refused by name with the line.
    @Test(arguments: [
        ("logsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}", 1, "logsource windows/security"),
        ("logsource: {product: linux, category: process_creation}\ndetection: {s: {Image: /bin/sh}, condition: s}", 1, "category process_creation"),
        ("logsource: {product: linux, service: sshd}\ndetection:\n  s:\n    Image: /bin/sh\n  condition: s", 4, "the field Image has no mapping"),
        ("logsource: {product: linux, service: sshd}\ndetection:\n  k: [Invalid user]\n  condition: k", 3, "keyword searches"),
        ("logsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventName|base64: x\n  condition: s", 4, "modifier base64"),
        ("logsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {eventName: x}\n  condition: s and t", 4, "names t"),
        ("logsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {eventName: x}\n  condition: (s", 4, "not closed"),
        (
            "logsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {eventName: x}\n  condition: "
                + String(repeating: "(", count: 100_000) + "s" + String(repeating: ")", count: 100_000), 4, "nests deeper than 64"
        ),
        (
            "logsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {eventName: x}\n  condition: "
                + String(repeating: "not ", count: 100_000) + "s", 4, "nests deeper than 64"
        ),
        ("logsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {eventName: x}\n  timeframe: 5m\n  condition: s", 4, "timeframe"),
    ])
    func unmappableRulesAreRefused(text: String, line: Int, reason: String) {
        do {
            _ = try RuleFile.load(text: "title: t\n" + text, defaultName: "sigma")
            Issue.record("loaded")
        } catch {
            #expect(error.line == line + 1, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }
}
