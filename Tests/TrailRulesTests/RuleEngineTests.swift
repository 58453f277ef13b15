// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailRulesYAML

@testable import TrailRules

/// Windows with Sigma's correlation semantics: they open, slide, expire, fire once per count and
/// survive a snapshot.
struct RuleEngineTests {
    static func rule(_ yaml: String, name: String = "test") throws -> Rule {
        try RuleFile.load(text: yaml, defaultName: name)
    }

    /// A failed SSH login (or a success, `failed: false`) from `address` on `host` at `second`.
    static func login(_ second: Int64, from address: String, host: String = "web-01", user: String = "alice", failed: Bool = true) -> RuleEvent {
        var detail: [String: JSONValue] = [
            "eventID": .string("\(host)-\(second)-\(address)-\(user)"), "eventTime": .string(TrailTime.formatEpochSeconds(1_800_000_000 + second)),
            "eventSource": "sshd.linux", "eventName": "Login", "sourceIPAddress": .string(address),
            "userIdentity": ["type": "LinuxUser", "userName": .string(user)],
            "additionalEventData": ["host": ["hostname": .string(host)]],
        ]
        if failed { detail["errorCode"] = "AuthFailure" }
        return RuleEvent(recordJSON: .object(detail), host: host)!
    }

    static let bruteForce = """
        name: ssh-brute-force
        match:
          detail:
            eventSource: [sshd.linux]
            eventName: [Login]
            errorCode: [{exists: true}]
        window:
          type: event_count
          group-by: [detail.sourceIPAddress]
          timespan: 10m
          condition: {gte: 5}
        """

    @Test func eventCountFiresOncePerGroupWhenTheCountIsReached() throws {
        var engine = RuleEngine(rules: [try Self.rule(Self.bruteForce)])
        var firings: [RuleFiring] = []
        for second in 0..<7 {
            firings += engine.evaluate(Self.login(Int64(second) * 10, from: "192.0.2.1"))
            firings += engine.evaluate(Self.login(Int64(second) * 10 + 1, from: "192.0.2.2"))
        }
        firings += engine.evaluate(Self.login(80, from: "192.0.2.3", failed: false))
        #expect(firings.count == 2)
        #expect(firings.map(\.groupKey) == [["detail.sourceIPAddress": "192.0.2.1"], ["detail.sourceIPAddress": "192.0.2.2"]])
        #expect(firings.allSatisfy { $0.count == 5 && $0.events.count == 5 && $0.rule == "ssh-brute-force" })
        #expect(firings[0].windowStart == 1_800_000_000_000 && firings[0].windowEnd == 1_800_000_040_000)
        #expect(Set(firings.map(\.id)).count == 2)
        // The count starts again after a firing: five more fire again.
        for second in 100..<103 { firings += engine.evaluate(Self.login(Int64(second), from: "192.0.2.1")) }
        #expect(firings.count == 3)
    }

    @Test func eventCountWindowSlidesAndExpires() throws {
        var engine = RuleEngine(rules: [try Self.rule(Self.bruteForce)])
        // Four within ten minutes, then one after the first has slid out: no firing.
        var firings: [RuleFiring] = []
        for second: Int64 in [0, 60, 120, 180, 601] { firings += engine.evaluate(Self.login(second, from: "198.51.100.7")) }
        #expect(firings.isEmpty)
        // A fifth within ten minutes of the second: fires with the four still inside.
        firings += engine.evaluate(Self.login(650, from: "198.51.100.7"))
        #expect(firings.count == 1)
        #expect(firings.first?.count == 5)
        #expect(firings.first?.windowStart == 1_800_000_060_000)
        // A record older than its group's window when it comes is late, not counted.
        #expect(engine.evaluate(Self.login(10, from: "198.51.100.7")).isEmpty)
        #expect(engine.counters["ssh-brute-force"]?.late == 1)
    }

    /// Records arriving out of order within the window take their place in time: a late guess
    /// still comes before the success it preceded.
    @Test func recordsArrivingLateTakeTheirPlaceInTime() throws {
        var engine = RuleEngine(rules: [try Self.rule(Self.guessThenSuccess)])
        var firings: [RuleFiring] = []
        for second: Int64 in [10, 11] { firings += engine.evaluate(Self.login(second, from: "192.0.2.9", user: "erin")) }
        firings += engine.evaluate(Self.login(20, from: "192.0.2.9", user: "erin", failed: false))
        #expect(firings.isEmpty)
        // The third guess, from another host's delayed delivery, happened before the success.
        firings += engine.evaluate(Self.login(12, from: "192.0.2.9", host: "web-02", user: "erin"))
        #expect(firings.count == 1)
        #expect(firings.first?.events.map(\.time) == [10, 11, 12, 20].map { 1_800_000_000_000 + $0 * 1000 })
    }

    @Test func valueCountCountsDistinctHostsPerAddress() throws {
        let rule = try Self.rule(
            """
            name: fleet-brute-force
            match: {detail: {eventSource: [sshd.linux], errorCode: [{exists: true}]}}
            window:
              type: value_count
              field: detail.additionalEventData.host.hostname
              group-by: detail.sourceIPAddress
              timespan: 10m
              condition: {gte: 3}
            """)
        var engine = RuleEngine(rules: [rule])
        var firings: [RuleFiring] = []
        // Ten failures on two hosts: two distinct values, no firing.
        for second in 0..<10 { firings += engine.evaluate(Self.login(Int64(second), from: "203.0.113.5", host: "web-0\(second % 2)")) }
        #expect(firings.isEmpty)
        firings += engine.evaluate(Self.login(20, from: "203.0.113.5", host: "db-01"))
        #expect(firings.count == 1)
        #expect(firings.first?.count == 3)
        #expect(Set(firings.first?.events.map(\.host) ?? []) == ["web-00", "web-01", "db-01"])
    }

    static let guessThenSuccess = """
        name: guess-then-success
        match: {detail: {eventSource: [sshd.linux], eventName: [Login]}}
        window:
          type: temporal_ordered
          group-by: [detail.userIdentity.userName]
          timespan: 5m
          events:
            - name: guesses
              match: {detail: {errorCode: [{exists: true}]}}
              count: 3
            - name: success
              match: {detail: {errorCode: [{exists: false}]}}
        """

    @Test func temporalOrderedNeedsTheStepsInOrder() throws {
        var engine = RuleEngine(rules: [try Self.rule(Self.guessThenSuccess)])
        // A success, then three failures: the wrong order.
        var firings = engine.evaluate(Self.login(0, from: "192.0.2.9", user: "bob", failed: false))
        for second: Int64 in [1, 2, 3] { firings += engine.evaluate(Self.login(second, from: "192.0.2.9", user: "bob")) }
        #expect(firings.isEmpty)
        // Then a success: three guesses before it, in order.
        firings += engine.evaluate(Self.login(4, from: "192.0.2.9", user: "bob", failed: false))
        #expect(firings.count == 1)
        #expect(firings.first?.groupKey == ["detail.userIdentity.userName": "bob"])
        // Two guesses then a success, for another user: not enough.
        for second: Int64 in [10, 11] { firings += engine.evaluate(Self.login(second, from: "192.0.2.9", user: "carol")) }
        firings += engine.evaluate(Self.login(12, from: "192.0.2.9", user: "carol", failed: false))
        #expect(firings.count == 1)
        // Guesses that slid out of the window before the success do not count.
        for second: Int64 in [100, 101, 102] { firings += engine.evaluate(Self.login(second, from: "192.0.2.9", user: "dave")) }
        firings += engine.evaluate(Self.login(500, from: "192.0.2.9", user: "dave", failed: false))
        #expect(firings.count == 1)
    }

    @Test func temporalNeedsEachStepInAnyOrder() throws {
        var engine = RuleEngine(rules: [
            try Self.rule(
                """
                name: both
                match: {detail: {eventSource: [sshd.linux]}}
                window:
                  type: temporal
                  group-by: [detail.sourceIPAddress]
                  timespan: 1m
                  events:
                    - {name: failure, match: {detail: {errorCode: [{exists: true}]}}}
                    - {name: success, match: {detail: {errorCode: [{exists: false}]}}}
                """)
        ])
        var firings = engine.evaluate(Self.login(0, from: "192.0.2.1", failed: false))
        #expect(firings.isEmpty)
        firings += engine.evaluate(Self.login(30, from: "192.0.2.1"))
        #expect(firings.count == 1)
        firings += engine.evaluate(Self.login(40, from: "192.0.2.2"))
        firings += engine.evaluate(Self.login(200, from: "192.0.2.2", failed: false))
        #expect(firings.count == 1)
    }

    @Test func suppressionHoldsFiringsPerGroupKey() throws {
        var engine = RuleEngine(rules: [
            try Self.rule(
                """
                name: every-failure
                match: {detail: {errorCode: [AuthFailure]}}
                suppress: {for: 1m, group-by: [detail.sourceIPAddress]}
                """)
        ])
        var firings: [RuleFiring] = []
        for second: Int64 in [0, 10, 59, 60, 61] { firings += engine.evaluate(Self.login(second, from: "192.0.2.1")) }
        firings += engine.evaluate(Self.login(5, from: "192.0.2.2"))
        #expect(firings.map(\.windowEnd) == [1_800_000_000_000, 1_800_000_060_000, 1_800_000_005_000])
        #expect(engine.counters["every-failure"]?.suppressed == 3)
    }

    @Test func snapshotCarriesCountsAcrossARestartAndFiresOnce() throws {
        let rule = try Self.rule(Self.bruteForce)
        var engine = RuleEngine(rules: [rule])
        for second: Int64 in 0..<3 { #expect(engine.evaluate(Self.login(second, from: "192.0.2.1")).isEmpty) }
        let snapshot = try engine.snapshot()
        // The "restarted" engine, and one that kept running: the same firing, same ID.
        var restarted = RuleEngine(rules: [try Self.rule(Self.bruteForce)])
        try restarted.restore(snapshot)
        var firings: [RuleFiring] = []
        var kept = engine
        for second: Int64 in 3..<5 {
            firings += restarted.evaluate(Self.login(second, from: "192.0.2.1"))
            firings += kept.evaluate(Self.login(second, from: "192.0.2.1"))
        }
        #expect(firings.count == 2)
        #expect(firings[0] == firings[1])
        // A changed window starts empty; an unchanged rule beside it keeps its state.
        var changed = RuleEngine(rules: [try Self.rule(Self.bruteForce.replacingOccurrences(of: "gte: 5", with: "gte: 6"))])
        try changed.restore(snapshot)
        #expect(changed.groupCounts["ssh-brute-force"] == 0)
    }

    @Test func groupsAreBoundedAndEvictionsCounted() throws {
        var engine = RuleEngine(rules: [try Self.rule(Self.bruteForce)], maxGroupsPerRule: 100)
        for index in 0..<1000 { _ = engine.evaluate(Self.login(Int64(index), from: "10.0.\(index / 256).\(index % 256)")) }
        #expect((engine.groupCounts["ssh-brute-force"] ?? 0) <= 100)
        #expect((engine.counters["ssh-brute-force"]?.evicted ?? 0) >= 900)
        // Groups whose window has passed are dropped without counting as evictions.
        var expiring = RuleEngine(rules: [try Self.rule(Self.bruteForce)])
        for index in 0..<2000 { _ = expiring.evaluate(Self.login(Int64(index) * 60, from: "10.1.\(index / 256).\(index % 256)")) }
        #expect((expiring.groupCounts["ssh-brute-force"] ?? 0) < 1100)
        #expect(expiring.counters["ssh-brute-force"]?.evicted == 0)
    }
}
