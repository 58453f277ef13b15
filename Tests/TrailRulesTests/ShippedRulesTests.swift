// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailRulesYAML
import TrailTestSupport

@testable import TrailRules

/// The rules in packaging/rules/, each with records it fires on and records it leaves alone.
struct ShippedRulesTests {
    static func rule(_ name: String) throws -> Rule {
        let path = TestBinaries.packageRoot() + "/packaging/rules/\(name).yml"
        return try RuleFile.load(text: try String(contentsOfFile: path, encoding: .utf8), defaultName: name)
    }

    /// A record of `source`/`name` at `second` (from a fixed Monday 00:00 UTC) on `host`.
    static func record(
        _ source: String, _ name: String, second: Int64 = 0, host: String = "web-01", address: String? = nil, user: String? = "alice",
        invoker: String? = nil, errorCode: String? = nil, parameters: [String: JSONValue] = [:], eventType: String? = nil,
        insight: [String: JSONValue]? = nil
    ) -> RuleEvent {
        var detail: [String: JSONValue] = [
            "eventID": .string(UUID().uuidString.lowercased()),
            // 2027-01-04 was a Monday.
            "eventTime": .string(TrailTime.formatEpochSeconds(1_799_020_800 + second)), "eventSource": .string(source), "eventName": .string(name),
            "requestParameters": .object(parameters), "additionalEventData": ["host": ["hostname": .string(host)]],
        ]
        var identity: [String: JSONValue] = ["type": "LinuxUser"]
        if let user { identity["userName"] = .string(user) }
        if let invoker { identity["sessionContext"] = ["sessionIssuer": ["userName": .string(invoker)]] }
        detail["userIdentity"] = .object(identity)
        if let address { detail["sourceIPAddress"] = .string(address) }
        if let errorCode { detail["errorCode"] = .string(errorCode) }
        if let eventType { detail["eventType"] = .string(eventType) }
        if let insight {
            detail["insightDetails"] = .object(insight)
            detail["eventSource"] = nil
            detail["eventName"] = nil
        }
        return RuleEvent(recordJSON: .object(detail), host: host)!
    }

    static func firings(_ rule: Rule, _ events: [RuleEvent]) -> [RuleFiring] {
        var engine = RuleEngine(rules: [rule])
        return events.flatMap { engine.evaluate($0) }
    }

    @Test func everyShippedRuleLoads() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestBinaries.packageRoot() + "/packaging/rules").filter {
            $0.hasSuffix(".yml")
        }
        #expect(names.count == 8)
        for name in names { _ = try Self.rule(String(name.dropLast(4))) }
    }

    @Test func sshBruteForce() throws {
        let rule = try Self.rule("ssh-brute-force")
        let failures = (0..<12).map { Self.record("sshd.linux", "Login", second: Int64($0) * 30, address: "203.0.113.9", errorCode: "AuthFailure") }
        let firings = Self.firings(rule, failures)
        // Fires at the fifth; the next five within the suppression are quiet.
        #expect(firings.map(\.count) == [5])
        let successes = (0..<6).map { Self.record("sshd.linux", "Login", second: Int64($0), address: "203.0.113.9") }
        #expect(Self.firings(rule, successes).isEmpty)
    }

    @Test func sshBruteForceAcrossTheFleet() throws {
        let rule = try Self.rule("ssh-brute-force-fleet")
        let events = ["web-01", "web-02", "web-02", "db-01"].enumerated().map {
            Self.record("sshd.linux", "Login", second: Int64($0.offset), host: $0.element, address: "198.51.100.3", errorCode: "InvalidUser")
        }
        #expect(Self.firings(rule, events).map(\.count) == [3])
        #expect(Self.firings(rule, Array(events.prefix(3))).isEmpty)
    }

    @Test func passwordGuessingThenSuccess() throws {
        let rule = try Self.rule("password-guessing-then-success")
        let guesses = (0..<5).map { Self.record("sshd.linux", "Login", second: Int64($0), address: "192.0.2.5", errorCode: "AuthFailure") }
        let success = Self.record("sshd.linux", "Login", second: 60, address: "192.0.2.5")
        #expect(Self.firings(rule, guesses + [success]).count == 1)
        #expect(Self.firings(rule, Array(guesses.prefix(4)) + [success]).isEmpty)
        let late = (0..<5).map { Self.record("sshd.linux", "Login", second: 100 + Int64($0), address: "192.0.2.5", errorCode: "AuthFailure") }
        #expect(Self.firings(rule, [success] + late).isEmpty)
    }

    @Test func newSudoerOrUIDZero() throws {
        let rule = try Self.rule("new-sudoer-or-uid0")
        let fired = [
            Self.record("accounts.linux", "AddUserToGroup", user: "root", parameters: ["userName": "mallory", "groupName": "sudo"]),
            Self.record("accounts.linux", "CreateUser", user: "root", parameters: ["userName": "toor", "uid": 0, "gid": 0]),
        ]
        let quiet = [
            Self.record("accounts.linux", "AddUserToGroup", user: "root", parameters: ["userName": "alice", "groupName": "docker"]),
            Self.record("accounts.linux", "CreateUser", user: "root", parameters: ["userName": "alice", "uid": 1001]),
        ]
        #expect(Self.firings(rule, fired).count == 2)
        #expect(Self.firings(rule, quiet).isEmpty)
    }

    @Test func sudoRefusals() throws {
        let rule = try Self.rule("sudo-refusals")
        let refusals = (0..<3).map {
            Self.record("sudo.linux", "RunCommand", second: Int64($0) * 60, user: "root", invoker: "bob", errorCode: "CommandNotAllowed")
        }
        #expect(
            Self.firings(rule, refusals).map(\.groupKey) == [
                ["detail.userIdentity.sessionContext.sessionIssuer.userName": "bob", "detail.additionalEventData.host.hostname": "web-01"]
            ])
        let allowed = (0..<3).map { Self.record("sudo.linux", "RunCommand", second: Int64($0), user: "root", invoker: "bob") }
        #expect(Self.firings(rule, allowed).isEmpty)
    }

    @Test func packageChangesOutsideTheMaintenanceWindow() throws {
        let rule = try Self.rule("package-change-outside-maintenance")
        // 14:00 UTC fires; 23:00 and 05:59 are in the window.
        #expect(Self.firings(rule, [Self.record("apt.linux", "InstallPackages", second: 14 * 3600)]).count == 1)
        #expect(Self.firings(rule, [Self.record("dpkg.linux", "InstallPackage", second: 23 * 3600)]).isEmpty)
        #expect(Self.firings(rule, [Self.record("apt.linux", "RemovePackages", second: 5 * 3600 + 3599)]).isEmpty)
        #expect(Self.record("apt.linux", "InstallPackages", second: 14 * 3600).envelope["hosttrail"] == ["hour": 14, "weekday": 1])
    }

    @Test func agentStoppedOrLogTampered() throws {
        let rule = try Self.rule("agent-stopped-or-log-tampered")
        #expect(Self.firings(rule, [Self.record("agent.hosttrail", "AgentStopped"), Self.record("agent.hosttrail", "LogTruncated")]).count == 2)
        #expect(Self.firings(rule, [Self.record("agent.hosttrail", "AgentStarted")]).isEmpty)
    }

    @Test func anyInsight() throws {
        let rule = try Self.rule("any-insight")
        let start = Self.record(
            "", "", eventType: "AwsCloudTrailInsight", insight: ["state": "Start", "eventSource": "sshd.linux", "eventName": "Login"])
        let end = Self.record(
            "", "", eventType: "AwsCloudTrailInsight", insight: ["state": "End", "eventSource": "sshd.linux", "eventName": "Login"])
        #expect(start.envelope["source"] == "aws.sshd")
        #expect(Self.firings(rule, [start, end]).count == 1)
    }
}
