// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The application socket as applications meet it: `hosttrail send` run by two real accounts,
/// event source claims, idempotent retries, the per-uid rate limit, partial batches and the
/// connection cap.
@Suite(.serialized, .endToEnd)
struct ApplicationSocketTests {
    /// Two accounts in the `hosttrail` group (which may write the socket), removed by ``delete()``.
    struct Accounts {
        let names = (0..<2).map { _ in "ht\(String(UInt32.random(in: 0..<UInt32.max), radix: 16))" }
        var uids: [UInt32] { names.map { getpwnam($0).map { $0.pointee.pw_uid } ?? 0 } }

        func create() throws {
            for name in names {
                try HostJournalSuites.HostActivityTests.Account.check(
                    Command.run("useradd", ["-M", "-G", "hosttrail", "-s", "/usr/sbin/nologin", name]))
            }
        }

        func delete() {
            for name in names { _ = try? Command.run("userdel", [name]) }
        }

        /// Two new accounts; the `hosttrail` group comes from `scripts/deps.sh` (the test fails
        /// without it rather than skipping).
        static func created() throws -> Accounts {
            _ = try #require(getgrnam("hosttrail"), "no hosttrail group: run scripts/deps.sh (make test does)")
            let accounts = Accounts()
            try accounts.create()
            return accounts
        }
    }

    /// The CLI copied where any account may run it (the checkout may sit under a private home).
    static func cliForEveryone(_ fleet: Fleet) throws -> String {
        let path = fleet.directory.file("hosttrail")
        if !FileManager.default.fileExists(atPath: path) { try FileManager.default.copyItem(atPath: TestBinaries.cli, toPath: path) }
        chmod(path, 0o755)
        return path
    }

    /// Runs `hosttrail send` as `user` against web-01's socket.
    static func send(_ fleet: Fleet, as user: String, _ arguments: [String], stdin: Data? = nil) throws -> Command.Result {
        try Command.run(
            "runuser", ["-u", user, "--", try cliForEveryone(fleet), "send", "--socket", fleet.socketPath("web-01")] + arguments, stdin: stdin)
    }

    @Test func identityComesFromTheKernelAndClaimedEventSourcesStayWithTheirOwners() throws {
        let accounts = try Accounts.created()
        defer { accounts.delete() }
        let (owner, other) = (accounts.names[0], accounts.names[1])
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--event-source-claim", "billing.example.com=user:\(owner)"])

        let sent = try Self.send(
            fleet, as: owner,
            [
                "--event-source", "billing.example.com", "--event-name", "DeleteInvoice", "--param", "invoice=42", "--param", "amount:=12.5",
                "--user", "alice",
            ])
        #expect(sent.status == 0, "\(sent)")
        let refused = try Self.send(fleet, as: other, ["--event-source", "billing.example.com", "--event-name", "DeleteInvoice"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("403 EventSourceClaimed") && refused.stderr.contains("uid \(accounts.uids[1])"), "\(refused)")
        // The other account may write any name nobody claimed, but not as someone else.
        let forged =
            #"{"eventSource":"shop.example.com","eventName":"RefundOrder","userIdentity":{"type":"Root","principalId":"0","userName":"root"}}"#
        let unclaimed = try Self.send(fleet, as: other, [], stdin: Data(forged.utf8))
        #expect(unclaimed.status == 0, "\(unclaimed)")

        let invoice = try #require(fleet.records(["--event-name", "DeleteInvoice"], atLeast: 1).first)
        #expect(invoice.eventID == sent.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(invoice.userIdentity?.principalId == String(accounts.uids[0]) && invoice.userIdentity?.userName == owner)
        #expect(invoice.userIdentity?.sessionContext?.sourceIdentity == "alice")
        #expect(invoice.requestParameters == .object(["invoice": "42", "amount": .number(12.5)]))
        #expect(invoice.additionalEventData?["process"]?["uid"]?.integerValue == Int64(accounts.uids[0]))
        #expect(invoice.additionalEventData?["process"]?["exe"]?.stringValue == (try Self.cliForEveryone(fleet)))
        let refund = try #require(fleet.records(["--event-name", "RefundOrder"], atLeast: 1).first)
        #expect(refund.userIdentity?.principalId == String(accounts.uids[1]) && refund.userIdentity?.userName == other)
        #expect(refund.userIdentity?.type == UserIdentity.linuxUser)
        #expect(refund.userIdentity?.sessionContext?.sourceIdentity == "root")
        #expect(try fleet.records(["--event-source", "billing.example.com"], atLeast: 2, timeout: 2).count == 1)
    }

    @Test func aRetryWithTheSameRequestIDIsStoredOnce() throws {
        let accounts = try Accounts.created()
        defer { accounts.delete() }
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        let arguments = ["--event-source", "shop.example.com", "--event-name", "PlaceOrder", "--request-id", "order-7"]
        let first = try Self.send(fleet, as: accounts.names[0], arguments)
        let retry = try Self.send(fleet, as: accounts.names[0], arguments)
        // The same request ID from another uid is another request.
        let stranger = try Self.send(fleet, as: accounts.names[1], arguments)
        #expect(first.status == 0 && retry.status == 0 && stranger.status == 0, "\(first) \(retry) \(stranger)")
        #expect(first.stdout == retry.stdout && first.stdout != stranger.stdout)
        let stored = try fleet.records(["--event-name", "PlaceOrder"], atLeast: 2)
        // A later request, stored: a duplicate would have been spooled, and shipped, before it.
        #expect(try Self.send(fleet, as: accounts.names[0], ["--event-source", "shop.example.com", "--event-name", "Later"]).status == 0)
        _ = try fleet.records(["--event-name", "Later"], atLeast: 1)
        #expect(try fleet.storedEventIDs(source: "shop.example.com").count == 3)
        #expect(Set(stored.map(\.eventID)).count == 2)
    }

    /// One connection, several requests: curl as a real account sends three on one kept-alive
    /// connection (the agent keeps the peer it resolved for the later ones); every record names
    /// that account, and none is lost or doubled.
    @Test func requestsOnAKeptAliveConnectionCarryTheKernelsIdentity() throws {
        let accounts = try Accounts.created()
        defer { accounts.delete() }
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        var arguments: [String] = []
        for index in 1...3 {
            let file = fleet.directory.file("kept-\(index)")
            try Data(#"{"eventSource":"shop.example.com","eventName":"KeptAlive","requestID":"kept-\#(index)"}"#.utf8).write(
                to: URL(fileURLWithPath: file))
            chmod(file, 0o644)
            if index > 1 { arguments.append("--next") }
            arguments += [
                "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", "--unix-socket", fleet.socketPath("web-01"),
                "-H", "Content-Type: application/json", "--data-binary", "@\(file)", "http://localhost/v1/events",
            ]
        }
        let result = try Command.run("runuser", ["-u", accounts.names[0], "--", "curl"] + arguments)
        // One connect, then two reuses of it.
        #expect(result.stdout.split(separator: "\n") == ["202 1", "202 0", "202 0"], "\(result)")
        let stored = try fleet.records(["--event-name", "KeptAlive"], atLeast: 3)
        #expect(stored.count == 3 && Set(stored.map(\.eventID)).count == 3)
        #expect(stored.allSatisfy { $0.userIdentity?.principalId == String(accounts.uids[0]) && $0.userIdentity?.userName == accounts.names[0] })
    }

    /// Requests written before the previous one is answered (pipelined) are answered in order,
    /// all stored: two at once, and a third while the first two wait for their commit (held 300 ms).
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--spool-commit-interval-ms", "300"])
        let client = try UnixSockets.StreamClient(path: fleet.socketPath("web-01"))
        func request(_ name: String, close: Bool) -> String {
            let body = #"{"eventSource":"shop.example.com","eventName":"\#(name)"}"#
            return "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n" + body
        }
        try client.send(request("PipelinedFirst", close: false) + request("PipelinedSecond", close: false))
        usleep(100_000)  // inside the first commit's 300 ms
        try client.send(request("PipelinedThird", close: true))
        let answer = client.readAll(timeout: 10)
        #expect(answer.components(separatedBy: "HTTP/1.1 202 Accepted").count == 4, "\(answer)")
        for name in ["PipelinedFirst", "PipelinedSecond", "PipelinedThird"] {
            #expect(try fleet.records(["--event-name", name], atLeast: 1).count == 1)
        }
    }

    /// `runuser -u user -- curl -i` on the socket: the status, the headers (lower-cased names) and the body.
    static func curl(_ fleet: Fleet, as user: String, body: String, query: String = "") throws -> (
        status: Int, headers: [String: String], body: JSONValue?
    ) {
        let file = fleet.directory.file("body-\(UUID().uuidString.prefix(6))")
        try Data(body.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o644)
        let result = try Command.run(
            "runuser",
            [
                "-u", user, "--", "curl", "-s", "-i", "--unix-socket", fleet.socketPath("web-01"), "-H", "Content-Type: application/json",
                "--data-binary", "@\(file)", "http://localhost/v1/events\(query)",
            ])
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? -1
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers, parts.count > 1 ? try? JSONValue.parse(Array(parts[1].utf8)) : nil)
    }

    static func batch(_ count: Int, name: String) -> String {
        #"{"events":["# + (0..<count).map { _ in #"{"eventSource":"shop.example.com","eventName":"\#(name)"}"# }.joined(separator: ",") + "]}"
    }

    @Test func aUidOverTheRateLimitIsToldWhenToRetryAndRootIsNotLimited() throws {
        let accounts = try Accounts.created()
        defer { accounts.delete() }
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--rate-limit", "5", "--rate-limit-burst", "10"])
        let user = accounts.names[0]
        #expect(try Self.curl(fleet, as: user, body: Self.batch(10, name: "Burst")).status == 202)
        let limited = try Self.curl(fleet, as: user, body: Self.batch(5, name: "OverTheLimit"))
        #expect(limited.status == 429)
        #expect(limited.body?["error"]?["code"] == "RateLimited")
        let retryAfter = try #require(limited.headers["retry-after"].flatMap(Int.init))
        #expect((1...2).contains(retryAfter), "5 events at 5 a second: \(retryAfter) s")
        // Another uid has its own bucket; root has none.
        #expect(try Self.curl(fleet, as: accounts.names[1], body: Self.batch(10, name: "OtherUID")).status == 202)
        #expect(try Self.curl(fleet, as: "root", body: Self.batch(200, name: "Root")).status == 202)
        Thread.sleep(forTimeInterval: Double(retryAfter))
        #expect(try Self.curl(fleet, as: user, body: Self.batch(5, name: "AfterWaiting")).status == 202)
        #expect(try fleet.records(["--event-name", "OverTheLimit"], atLeast: 1, timeout: 2).isEmpty)
        #expect(try fleet.records(["--event-name", "AfterWaiting"], atLeast: 5).count == 5)
    }

    @Test func aPartialBatchStoresTheGoodEventsAndNamesTheBadOnes() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        let body =
            #"{"events":[{"eventName":"Good1"},{"eventName":5},{"eventName":"Bad","eventSource":"sshd.linux"},{"eventName":"Good2","eventTime":"yesterday"},{"eventName":"Good2"}]}"#
        // Whole (the default): refused at the first bad event, nothing stored.
        let whole = try Self.curl(fleet, as: "root", body: body)
        #expect(whole.status == 400)
        #expect(whole.body?["error"]?["index"] == 1 && whole.body?["error"]?["field"] == "eventName")
        let partial = try Self.curl(fleet, as: "root", body: body, query: "?partial=true")
        #expect(partial.status == 202)
        let ids = try #require(partial.body?["eventIDs"]?.arrayValue)
        #expect(ids.map { $0 == .null } == [false, true, true, true, false])
        let errors = try #require(partial.body?["errors"]?.arrayValue)
        #expect(errors.map { $0["index"]?.integerValue } == [1, 2, 3])
        #expect(errors.map { $0["code"]?.stringValue } == ["InvalidFieldType", "ReservedEventSource", "InvalidFieldValue"])
        #expect(errors.map { $0["field"]?.stringValue } == ["eventName", "eventSource", "eventTime"])
        let stored = try fleet.records(["--event-source", "curl.local"], atLeast: 2)
        #expect(Set(stored.map(\.eventID)) == Set(ids.compactMap(\.stringValue)))
        // Nothing good at all: the first refusal's status, the same shape.
        let allBad = try Self.curl(fleet, as: "root", body: #"{"events":[{"eventName":"X","eventSource":"a.hosttrail"},{}]}"#, query: "?partial=true")
        #expect(allBad.status == 403)
        #expect(allBad.body?["eventIDs"] == [.null, .null] && allBad.body?["errors"]?.arrayValue?.count == 2)
    }

    @Test func connectionsOverTheCapAreTurnedAwayAndTheAgentKeepsServing() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--max-connections", "2", "--socket-read-timeout-ms", "20000"])
        let held = try (0..<2).map { _ in try UnixSockets.StreamClient(path: fleet.socketPath("web-01")) }
        // Both accepted and served (and kept open): the agent counts them.
        for client in held {
            try client.send("GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(client.read(until: "}\n", timeout: 5).hasPrefix("HTTP/1.1 "))
        }
        let third = try UnixSockets.StreamClient(path: fleet.socketPath("web-01"))
        let answer = third.readAll(timeout: 5)
        #expect(answer.hasPrefix("HTTP/1.1 503") && answer.contains("Retry-After: 1") && answer.contains("TooManyConnections"), "\(answer)")
        // The held connections still work, and once they close others are served again.
        try held[0].send("GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(held[0].readAll(timeout: 5).hasPrefix("HTTP/1.1 200"))
        #expect(try fleet.post(#"{"eventName":"AfterTheCap"}"#).status == 202)
        #expect(fleet.agents["web-01"]?.log.contains("refusing application connections over a limit") == true)
    }
}
