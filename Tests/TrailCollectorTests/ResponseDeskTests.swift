// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailCore
import TrailRules
import TrailRulesYAML
import TrailTestSupport

@testable import TrailCollector

/// The collector's side of host responses over a real store: a respond action becomes one
/// request per host with its record, in the job's transaction; hosts take their own requests by
/// long-poll until they acknowledge them; reverts reach wherever a response is in force.
struct ResponseDeskTests {
    struct Setup {
        let directory: TemporaryDirectory
        let store: SQLiteEventStore
        let desk: ResponseDesk
        let dispatcher: ActionDispatcher
        let consumer = RecordingConsumer()

        init() throws {
            directory = try TemporaryDirectory(prefix: "responses")
            store = try SQLiteEventStore(path: directory.file("events.sqlite"))
            let pipeline = IngestPipeline(store: store, consumers: [consumer])
            desk = ResponseDesk(ledger: store.responseLedger, pipeline: pipeline, binder: CollectorTestRecords.binder, logger: Logger(label: "test"))
            dispatcher = ActionDispatcher(
                ledger: store.ruleLedger, pipeline: pipeline, records: RuleRecords(binder: CollectorTestRecords.binder), desk: desk, maxConcurrent: 2,
                logger: Logger(label: "test"))
        }

        /// A firing of `respond` over failed logins from 203.0.113.9 on web-01 and web-02, its job queued.
        func fire(_ respond: RuleAction.Respond, id: String = "6f1c7c0e-0000-4000-8000-0000000000a1") async throws -> ActionJob {
            var logins: [StoredRecord] = []
            for (index, host) in ["web-01", "web-02"].enumerated() {
                var login = CollectorTestRecords.record(name: "Login", source: "sshd.linux", host: host, index: index)
                login.sourceIPAddress = "203.0.113.9"
                logins.append(try CollectorTestRecords.stored(login, host: host))
            }
            let firing = RuleFiring(
                rule: "fleet", mode: .enforce, groupKey: ["detail.sourceIPAddress": "203.0.113.9"], count: 2, windowStart: 1_800_000_000_000,
                windowEnd: 1_800_000_060_000, windowMilliseconds: 600_000,
                events: logins.map { MatchedEvent(host: $0.host, eventID: $0.eventID, time: 1_800_000_000_000) }, id: id)
            let rule = try RuleFile.load(text: "match: {source: [aws.sshd]}", defaultName: "fleet")
            let match = try RuleRecords(binder: CollectorTestRecords.binder).matched(firing, rule: rule)
            let payload = try RuleRecords.payload(match: match, matchedRecords: logins.map(\.json))
            _ = try await store.ruleLedger.commit(
                matches: [match],
                jobs: [.init(rule: "fleet", matchEventID: match.eventID, action: .respond(respond), idempotencyKey: "\(id)/0", payload: payload)],
                position: nil)
            return try #require(try await store.ruleLedger.jobs(in: .pending, limit: 1).first)
        }
    }

    static let block = RuleAction.Respond(
        response: "block", hosts: .matched, arguments: ["address": "detail.sourceIPAddress", "note": "fleet"], seconds: 600, deadlineSeconds: 300)

    static func poll(_ acks: [ResponsePoll.Ack] = []) throws -> Data {
        try JSONEncoder().encode(ResponsePoll(acks: acks, waitSeconds: 0, responses: ["block"]))
    }

    static func requests(_ answer: Data) throws -> [ResponseRequest] {
        try JSONDecoder().decode(ResponsePoll.Answer.self, from: answer).requests
    }

    @Test func aRespondActionAsksEachMatchedHostOnceAndIsRecorded() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let job = try await setup.fire(Self.block)
        #expect(await setup.dispatcher.attempt(job))
        let queued = try await setup.desk.ledger.requests(active: true, limit: 10)
        #expect(Set(queued.map(\.host)) == ["web-01", "web-02"] && queued.allSatisfy { $0.state == .queued })
        let request = try #require(queued.first { $0.host == "web-01" }?.request)
        #expect(request.arguments == ["address": "203.0.113.9", "note": "fleet"] && request.seconds == 600 && request.rule == "fleet")
        #expect(request.eventIDs.count == 2)
        #expect(setup.consumer.names.filter { $0 == "RequestResponse" }.count == 2 && setup.consumer.names.contains("InvokeAction"))
        #expect(try await setup.store.ruleLedger.jobs(in: .succeeded, limit: 10).count == 1)

        // web-01 takes only its own, again and again until it acknowledges it; then nothing.
        let first = try Self.requests(try await setup.desk.exchange(host: "web-01", body: try Self.poll()))
        #expect(first.map(\.id) == [request.id])
        #expect(try Self.requests(try await setup.desk.exchange(host: "web-01", body: try Self.poll())).map(\.id) == [request.id])
        let performed = ResponseBook.Outcome(state: .performed, expiresAt: 1_800_000_600)
        // Another host's acknowledgement of it changes nothing.
        _ = try await setup.desk.exchange(host: "web-02", body: try Self.poll([.init(id: request.id, outcome: .init(state: .refused))]))
        #expect(try await setup.desk.exchange(host: "web-01", body: try Self.poll([.init(id: request.id, outcome: performed)])).isEmpty == false)
        #expect(try Self.requests(try await setup.desk.exchange(host: "web-01", body: try Self.poll())).isEmpty)
        let states = try await setup.desk.ledger.requests(active: false, limit: 10)
        #expect(states.first { $0.host == "web-01" }?.state == .performed && states.first { $0.host == "web-01" }?.expiresAt == 1_800_000_600)
        #expect(Set(try await setup.desk.ledger.hosts().map(\.host)) == ["web-01", "web-02"])

        // Revert the group: web-01 (in force) gets a revert request; web-02's was delivered too.
        let group = try #require(states.first?.group)
        let reverted = try #require(try await setup.desk.revert(id: group))
        #expect(Set(reverted.queued.map(\.host)) == ["web-01", "web-02"] && reverted.cancelled == 0)
        let revert = try #require(try Self.requests(try await setup.desk.exchange(host: "web-01", body: try Self.poll())).first)
        #expect(revert.reverts == request.id && revert.id == request.id + "/revert")
        _ = try await setup.desk.exchange(host: "web-01", body: try Self.poll([.init(id: revert.id, outcome: .init(state: .performed))]))
        let after = try await setup.desk.ledger.requests(active: false, limit: 10)
        #expect(after.first { $0.request.id == request.id }?.state == .reverted)
        #expect(try await setup.desk.revert(id: "rsp-nonesuch") == nil)
    }

    @Test func anUndeliveredRequestIsCancelledAndAnActionWithoutHostsOrArgumentsFails() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        // No host polls yet: `all` asks nobody, and the job fails with NoHosts.
        var everyone = Self.block
        everyone.hosts = .all
        let job = try await setup.fire(everyone)
        #expect(await setup.dispatcher.attempt(job))
        #expect(try await setup.store.ruleLedger.jobs(in: .failed, limit: 10).first?.lastError?.hasPrefix("NoHosts") == true)
        var missing = Self.block
        missing.arguments = ["account": "detail.userIdentity.accountName"]
        let second = try await setup.fire(missing, id: "6f1c7c0e-0000-4000-8000-0000000000a2")
        #expect(await setup.dispatcher.attempt(second))
        #expect(try await setup.store.ruleLedger.jobs(in: .failed, limit: 10).contains { $0.lastError?.hasPrefix("MissingArgument") == true })

        // Hosts named by pattern, among those that poll.
        _ = try await setup.desk.exchange(host: "web-07", body: try Self.poll())
        _ = try await setup.desk.exchange(host: "db-01", body: try Self.poll())
        var webs = Self.block
        webs.hosts = .matching(["web-*"])
        let third = try await setup.fire(webs, id: "6f1c7c0e-0000-4000-8000-0000000000a3")
        #expect(await setup.dispatcher.attempt(third))
        let queued = try await setup.desk.ledger.requests(active: true, limit: 10)
        #expect(queued.map(\.host) == ["web-07"])
        let reverted = try #require(try await setup.desk.revert(id: queued[0].request.id))
        #expect(reverted.queued.isEmpty && reverted.cancelled == 1)
        #expect(try Self.requests(try await setup.desk.exchange(host: "web-07", body: try Self.poll())).isEmpty)
    }

    /// Bounds far below each wait's timeout (60 s): a missed wakeup takes the whole timeout, while
    /// the parallel tests on two cores can hold the task up for seconds.
    @Test func aLongPollIsWokenByANewRequestAndEndsAtShutdown() async throws {
        let board = ResponseBoard()
        // Signalled between reading the generation and waiting: no wait at all.
        let generation = board.generation(of: "web-01")
        board.signal(["web-01"])
        let start = ContinuousClock.now
        await board.wait(host: "web-01", since: generation, timeout: .seconds(60))
        #expect(ContinuousClock.now - start < .seconds(30))
        // A waiter woken by a signal for its host, not another's.
        let before = board.generation(of: "web-02")
        let waiting = Task { await board.wait(host: "web-02", since: before, timeout: .seconds(60)) }
        // Registered before the signal: this is the wakeup itself, not the generation check.
        while board.waiters(of: "web-02") == 0 { await Task.yield() }
        board.signal(["web-03"])
        #expect(board.waiters(of: "web-02") == 1, "another host's request wakes nobody here")
        board.signal(["web-02"])
        let woken = ContinuousClock.now
        await waiting.value
        #expect(ContinuousClock.now - woken < .seconds(30))
        // The timeout ends a wait nobody signals.
        let quiet = ContinuousClock.now
        await board.wait(host: "web-04", since: board.generation(of: "web-04"), timeout: .milliseconds(200))
        #expect(ContinuousClock.now - quiet >= .milliseconds(200))
        // Closed: every wait ends.
        let held = Task { await board.wait(host: "web-05", since: 0, timeout: .seconds(60)) }
        while board.waiters(of: "web-05") == 0 { await Task.yield() }
        let closing = ContinuousClock.now
        board.close()
        await held.value
        #expect(ContinuousClock.now - closing < .seconds(30))
        // And a wait after the close returns at once.
        await board.wait(host: "web-06", since: 0, timeout: .seconds(60))
    }
}
