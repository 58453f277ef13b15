// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailCore
import TrailRules
import TrailRulesYAML
import TrailTestSupport

@testable import TrailCollector

/// Rules' bookkeeping over a real store: a match and its jobs in one transaction, stored once;
/// retries by the back-off policy until dead-lettered; the dead-letter list and its replay
/// through the API; programs run with their input, exit code, output and timeout.
struct RuleActionsTests {
    static let webhook = RuleAction.webhook(
        .init(url: "https://127.0.0.1:9/hook", secretFile: nil, caFile: nil, timeoutSeconds: 5, retry: .init(maxAttempts: 3, maxAgeSeconds: 3600)))

    static func match(_ id: String) throws -> StoredRecord {
        let firing = RuleFiring(
            rule: "r", mode: .enforce, groupKey: ["detail.sourceIPAddress": "192.0.2.1"], count: 5, windowStart: 1_800_000_000_000,
            windowEnd: 1_800_000_060_000, windowMilliseconds: 600_000, events: [], id: id)
        let rule = try RuleFile.load(text: "match: {source: [aws.sshd]}", defaultName: "r")
        return try RuleRecords(binder: CollectorTestRecords.binder).matched(firing, rule: rule)
    }

    @Test func aMatchAndItsJobsAreStoredOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "rules")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let ledger = store.ruleLedger
        let id = "6f1c7c0e-0000-4000-8000-000000000001"
        let match = try Self.match(id)
        let job = ActionJob.New(rule: "r", matchEventID: match.eventID, action: Self.webhook, idempotencyKey: "\(id)/0", payload: "{}")
        let first = try await ledger.commit(matches: [match], jobs: [job], position: RulePosition(row: 1, snapshot: Data("{}".utf8)))
        // Evaluated again after a crash: the same match, stored once, its job queued once.
        let again = try await ledger.commit(matches: [match], jobs: [job], position: nil)
        #expect(first.count == 1 && again.isEmpty)
        #expect(try await ledger.jobs(in: nil, limit: 10).count == 1)
        #expect(try await ledger.position()?.row == 1)
        let due = try await ledger.dueJobs(now: Int64(Date().timeIntervalSince1970 * 1000) + 1, limit: 10)
        #expect(due.map(\.idempotencyKey) == ["\(id)/0"] && due.first?.action == Self.webhook)
    }

    /// Rule matches and action attempts are the collector's own records: Insights leave them out,
    /// in the running counts and in the counts resumed from the store.
    @Test func insightsDoNotCountTheRulesRecords() async throws {
        let directory = try TemporaryDirectory(prefix: "rules")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let match = try Self.match("6f1c7c0e-0000-4000-8000-000000000003")
        let counter = InsightCounter(settings: InsightDetector<InsightKey>.Settings(), resumedThrough: 0)
        await counter.committed([match])
        #expect(counter.tally.keys == 0)
        _ = try await store.insert([match])
        #expect(try await store.insightCounts(from: 0, to: .max).isEmpty)
    }

    @Test func failedAttemptsBackOffUntilTheyAreDeadLettered() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var job = ActionJob(
            id: 1, rule: "r", matchEventID: "m", action: Self.webhook, idempotencyKey: "k", payload: "{}", state: .pending, attempts: 0,
            createdAt: 1_800_000_000_000, nextAttemptAt: 1_800_000_000_000, lastError: nil)
        let failure = ActionOutcome(errorCode: "HTTP500", errorMessage: "500", details: [:], retryable: true, retryAfter: nil)
        // Full jitter: the delay is within the doubling bound, and a Retry-After longer than it wins.
        let first = ActionDispatcher.update(job, attempt: 1, outcome: failure, now: now, randomFraction: 0.999)
        #expect(first.state == .pending && first.nextAttemptAt - 1_800_000_000_000 <= 1000)
        var slowDown = failure
        slowDown.retryAfter = .seconds(120)
        #expect(ActionDispatcher.update(job, attempt: 1, outcome: slowDown, now: now, randomFraction: 0).nextAttemptAt == 1_800_000_120_000)
        let second = ActionDispatcher.update(job, attempt: 2, outcome: failure, now: now, randomFraction: 0.999)
        #expect(second.state == .pending && second.nextAttemptAt - 1_800_000_000_000 <= 2000 && second.nextAttemptAt - 1_800_000_000_000 > 1000)
        // The third of three attempts: given up.
        #expect(ActionDispatcher.update(job, attempt: 3, outcome: failure, now: now, randomFraction: 0.5).state == .failed)
        // A refusal that trying again cannot help (400): given up at once.
        var refused = failure
        refused.retryable = false
        #expect(ActionDispatcher.update(job, attempt: 1, outcome: refused, now: now, randomFraction: 0.5).state == .failed)
        // Past the maximum age: given up though attempts remain.
        job.createdAt = 1_800_000_000_000 - 3_599_500
        #expect(ActionDispatcher.update(job, attempt: 1, outcome: failure, now: now, randomFraction: 0.9).state == .failed)
        #expect(ActionDispatcher.update(job, attempt: 1, outcome: .success([:]), now: now, randomFraction: 0).state == .succeeded)
    }

    @Test func theDeadLetterListIsListedAndReplayedThroughTheAPI() async throws {
        let directory = try TemporaryDirectory(prefix: "rules")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let ledger = store.ruleLedger
        let match = try Self.match("6f1c7c0e-0000-4000-8000-000000000002")
        _ = try await ledger.commit(
            matches: [match], jobs: [.init(rule: "r", matchEventID: match.eventID, action: Self.webhook, idempotencyKey: "k/0", payload: "{}")],
            position: nil)
        let job = try #require(try await ledger.jobs(in: .pending, limit: 1).first)
        let outcome = ActionOutcome(errorCode: "DeliveryFailed", errorMessage: "refused", details: [:], retryable: true, retryAfter: nil)
        let record = try RuleRecords(binder: CollectorTestRecords.binder).invoked(job, attempt: 3, outcome: outcome, at: Date())
        _ = try await ledger.finish(
            job, update: .init(state: .failed, attempts: 3, nextAttemptAt: 0, lastError: "DeliveryFailed: refused"), record: record)

        let board = RuleStatusBoard(dispatcherWakeup: Wakeup())
        let api = CloudTrailAPI(store: store, configuration: CollectorConfiguration(), rules: board)
        func call(_ operation: String, _ request: JSONValue, scope: LookupScope = .fleet) async throws -> JSONValue {
            try JSONValue.parse(try await api.handle(target: CloudTrailAPI.targetPrefix + operation, body: Data(request.serialized()), scope: scope))
        }
        let failed = try await call("ListActionJobs", ["State": "failed"])
        #expect(failed["Jobs"]?.arrayValue?.map { $0["LastError"] } == ["DeliveryFailed: refused"])
        #expect(failed["Jobs"]?.arrayValue?.first?["Target"] == "https://127.0.0.1:9/hook")
        let id = try #require(failed["Jobs"]?.arrayValue?.first?["Id"])
        #expect(try await call("RetryActionJob", ["Id": id])["State"] == "pending")
        #expect(try await ledger.jobs(in: .pending, limit: 5).first?.attempts == 0)
        await #expect(throws: CloudTrailAPIError.self) { try await call("RetryActionJob", ["Id": id]) }
        // A host's own certificate reads its host's records, not the fleet's rules.
        await #expect(throws: CloudTrailAPIError.self) { try await call("ListRules", [:], scope: LookupScope(hosts: ["web-01"], eventSources: nil)) }
        // The attempt is a record.
        let invoked = try await store.lookup(
            EventQuery(
                filters: [LookupAttribute(key: .eventName, value: "InvokeAction")], startTime: nil, endTime: nil, insights: false, limit: 5,
                after: nil))
        #expect(invoked.records.count == 1 && invoked.records[0].json.contains("\"errorCode\":\"DeliveryFailed\""))
    }

    static func exec(_ command: [String], timeout: Int = 10) -> RuleAction.Exec {
        RuleAction.Exec(command: command, user: "nobody", timeoutSeconds: timeout, retry: .once)
    }

    @Test func programsGetTheMatchOnTheirInputAndAreKeptToTheirTimeout() throws {
        let echoed = ProgramAction.run(Self.exec(["/bin/cat"]), input: Data("{\"rule\":\"r\"}".utf8))
        #expect(echoed.succeeded && echoed.details["output"] == "{\"rule\":\"r\"}" && echoed.details["exitCode"] == 0)
        let failed = ProgramAction.run(Self.exec(["/bin/sh", "-c", "echo no >&2; exit 3"]), input: Data())
        #expect(failed.errorCode == "ProgramFailed" && failed.details["exitCode"] == 3 && failed.details["output"] == "no\n")
        let started = Date()
        let slow = ProgramAction.run(Self.exec(["/bin/sleep", "30"], timeout: 1), input: Data())
        #expect(slow.errorCode == "Timeout" && Date().timeIntervalSince(started) < 10)
        if geteuid() == 0 {
            // As root the program runs as the unprivileged user it names.
            let who = ProgramAction.run(Self.exec(["/usr/bin/id", "-un"]), input: Data())
            #expect(who.details["output"] == "nobody\n")
        }
        let missing = ProgramAction.run(Self.exec(["/nonexistent/program"]), input: Data())
        #expect(!missing.succeeded)
        // A program that reads none of a large input and exits: its pipe closes under the writer,
        // which must get an error (EPIPE), not a SIGPIPE that ends the collector.
        let unread = ProgramAction.run(Self.exec(["/bin/true"]), input: Data(repeating: 0x7B, count: 1 << 20))
        #expect(unread.succeeded && unread.details["exitCode"] == 0)
    }
}
