// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Testing

@testable import TrailCore

/// The agent's memory of its responses: what is in force until when, what each request came to,
/// and how often each target offended, through a save and a load (the agent's restart).
struct ResponseBookTests {
    static func action(_ id: String, address: String = "203.0.113.9", seconds: Int64 = 600, offence: Int = 1) -> ResponseAction {
        ResponseAction(
            request: ResponseRequest(id: id, response: "block", arguments: ["address": address], deadline: 2_000), target: .address(address),
            seconds: seconds, offence: offence)
    }

    static func reloaded(_ book: ResponseBook) throws -> ResponseBook {
        try JSONDecoder().decode(ResponseBook.self, from: try JSONEncoder().encode(book))
    }

    @Test func aResponseIsInForceUntilItsEndAndOffencesAreRemembered() throws {
        var book = ResponseBook()
        let request = Self.action("r1").request
        #expect(book.offences(of: request, now: 1_000) == 0)
        book.begin(Self.action("r1"), now: 1_000)
        #expect(book.outcome(of: "r1") == .init(state: .performed, expiresAt: 1_600))
        #expect(book.unrecorded == ["r1"])
        book.markRecorded()
        book = try Self.reloaded(book)
        #expect(book.nextExpiry == 1_600 && book.due(now: 1_599).isEmpty && book.due(now: 1_600).map(\.requestID) == ["r1"])
        // Asked again for the same address while it is blocked (a host rule and a fleet rule): in force.
        #expect(book.inForce(like: Self.action("r9").request, now: 1_500)?.requestID == "r1")
        #expect(book.inForce(like: Self.action("r9").request, now: 1_600) == nil)
        #expect(book.inForce(like: Self.action("r9", address: "203.0.113.10").request, now: 1_500) == nil)
        book.ended("r1", state: .expired)
        #expect(book.active.isEmpty && book.outcome(of: "r1")?.state == .expired)
        // The next request for the same address is its second offence; after a week, its first again.
        var next = Self.action("r2").request
        next.id = "r2"
        #expect(try Self.reloaded(book).offences(of: next, now: 2_000) == 1)
        #expect(book.offences(of: next, now: 1_000 + 7 * 86_400) == 0)
        // Another address, or the same in another spelling: counted apart, and together.
        #expect(book.offences(of: Self.action("r3", address: "203.0.113.10").request, now: 2_000) == 0)
        book.begin(Self.action("r4", address: "2001:DB8:0::1"), now: 3_000)
        #expect(book.offences(of: Self.action("r5", address: "2001:db8::1").request, now: 3_001) == 1)
    }

    @Test func aFailedEndIsTriedAgainLaterAndARepeatedRequestIsAnAlias() {
        var book = ResponseBook()
        book.begin(Self.action("lock", seconds: 60), now: 1_000)
        book.endFailed("lock", now: 1_060)
        #expect(book.due(now: 1_061).isEmpty && book.nextExpiry == 1_090, "30 s after the first failure")
        book.endFailed("lock", now: 1_090)
        #expect(book.nextExpiry == 1_150, "then 60 s")
        // Asked again while in force: answered by it; a revert of either request finds it.
        let existing = book.active["lock"]!
        book.alias("again", of: existing)
        #expect(book.outcome(of: "again")?.state == .performed && book.inForce(byRequest: "again")?.requestID == "lock")
        book.failedRevert("again/revert", code: "RevertFailed", message: "still in force")
        #expect(book.outcome(of: "again/revert")?.state == .failed)
        book.ended("lock", state: .reverted)
        #expect(book.inForce(byRequest: "again") == nil && book.nextExpiry == nil)
    }

    @Test func aFailedResponseIsNotInForceAndDoesNotCountAsAnOffence() {
        var book = ResponseBook()
        book.begin(Self.action("r1"), now: 1_000)
        book.failed("r1", code: "FirewallFailed", message: "nft exited 1")
        #expect(book.active.isEmpty && book.unrecorded.isEmpty)
        #expect(book.outcome(of: "r1") == .init(state: .failed, errorCode: "FirewallFailed", message: "nft exited 1"))
        #expect(book.offences(of: Self.action("r2").request, now: 1_001) == 0)
        book.refused("r3", code: "AllowListed", message: "in the allow-list")
        #expect(book.outcome(of: "r3")?.state == .refused)
    }

    @Test func outcomesAreForgottenOldestFirstButNotWhileInForce() {
        var book = ResponseBook()
        book.begin(Self.action("kept", seconds: 86_400), now: 1_000)
        for index in 0..<(ResponseBook.rememberedOutcomes + 5) { book.refused("r\(index)", code: "UnknownResponse", message: "") }
        #expect(book.outcome(of: "r0") == nil && book.outcome(of: "r\(ResponseBook.rememberedOutcomes + 4)") != nil)
        #expect(book.outcome(of: "kept")?.state == .performed && book.active["kept"] != nil)
    }

    @Test func commandsReadWazuh5sInputShape() throws {
        let action = ResponseAction(
            request: ResponseRequest(
                id: "rsp-1@web-01", response: "notify", arguments: ["address": "203.0.113.9", "account": "alice", "ticket": "T-1"], deadline: 0,
                rule: "ssh-brute-force", eventIDs: ["e1"]),
            target: .command(argv: ["/usr/local/bin/notify", "--urgent"], revert: ["/usr/local/bin/unnotify"], timeoutSeconds: 5), seconds: 600,
            offence: 1)
        let enable = ResponseCommandInput.json(action, enable: true, host: "web-01")
        #expect(enable["version"] == 1 && enable["command"] == "enable" && enable["origin"]?["name"] == "web-01")
        #expect(enable["parameters"]?["program"] == "/usr/local/bin/notify" && enable["parameters"]?["extra_args"] == ["--urgent"])
        let alert = try #require(enable["parameters"]?["alert"])
        #expect(alert["source.ip"] == "203.0.113.9" && alert["user.name"] == "alice" && alert["rule.name"] == "ssh-brute-force")
        #expect(alert["hosttrail.arguments.ticket"] == "T-1" && alert["hosttrail.request_id"] == "rsp-1@web-01")
        let disable = ResponseCommandInput.json(action, enable: false, host: "web-01")
        #expect(disable["command"] == "disable" && disable["parameters"]?["program"] == "/usr/local/bin/unnotify")
    }

    @Test func theHostsRecordsNameTheRequestAndAreTheSameWhenWrittenAgain() {
        let builder = ResponseRecordBuilder(
            agent: AgentRecordBuilder(
                host: HostIdentity(hostname: "web-01", machineID: "m", bootID: "b"), version: "1", configurationHash: "h",
                process: PeerCredentials(pid: 1, uid: 0, gid: 0), runStarted: Date(timeIntervalSince1970: 1)))
        var action = Self.action("rsp-1@web-01")
        action.request.rule = "fleet"
        action.request.eventIDs = ["e1", "e2"]
        let performed = builder.performed(action, expiresAt: 1_600, details: [:], now: Date(timeIntervalSince1970: 1_000))
        #expect(performed.eventSource == "responses.hosttrail" && performed.eventName == "BlockAddress" && performed.errorCode == nil)
        #expect(performed.requestParameters?["ruleName"] == "fleet" && performed.requestParameters?["triggeringEventIds"] == ["e1", "e2"])
        #expect(performed.responseElements?["expiresAt"] == "1970-01-01T00:26:40Z")
        // A later run writing the same step (after a crash before the acknowledgement): the same ID.
        let again = ResponseRecordBuilder(
            agent: AgentRecordBuilder(
                host: HostIdentity(hostname: "web-01", machineID: "m", bootID: "b2"), version: "1", configurationHash: "h",
                process: PeerCredentials(pid: 2, uid: 0, gid: 0), runStarted: Date(timeIntervalSince1970: 5))
        ).performed(action, expiresAt: 1_600, details: [:], now: Date(timeIntervalSince1970: 1_001))
        #expect(again.eventID == performed.eventID)
        let refused = builder.unsuccessful(action.request, kind: nil, step: "refuse", code: "UnknownResponse", message: "no", now: Date())
        #expect(refused.eventName == "PerformResponse" && refused.errorCode == "UnknownResponse" && refused.eventID != performed.eventID)
        let active = ResponseBook.Active(action: action, expiresAt: 1_600, wasLockedBefore: false)
        #expect(builder.ended(active, reason: "expired", by: nil, details: [:], now: Date()).eventName == "UnblockAddress")
    }
}
