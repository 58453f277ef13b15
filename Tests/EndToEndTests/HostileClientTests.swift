// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// A hostile local account, a compromised host and an anonymous peer try to stop the trail or
/// erase part of it; the agent and the collector stay up and lose nothing they acknowledged.
@Suite(.serialized, .endToEnd)
struct HostileClientTests {
    /// `{"eventName":name,"requestParameters":{"a":{"a":…}}}` whose objects nest `depth` deep.
    static func nestedEvent(_ name: String, depth: Int) -> String {
        #"{"eventSource":"shop.example.com","eventName":"\#(name)","requestParameters":"#
            + String(repeating: #"{"a":"#, count: depth - 2) + "{}" + String(repeating: "}", count: depth - 2) + "}"
    }

    /// An event nested to the parser's edge shipped two levels deeper and made the collector refuse
    /// its whole batch (40 to 90 innocent records dead-lettered each time). The agent now refuses
    /// what the collector could not read, and takes what it can.
    @Test func anEventTooDeepForTheShippedBatchIsRefusedAtTheSocket() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        #expect(JSONValue.maxDepth == 512 && ApplicationEvent.Limits.maxNestingDepth == 510)
        let tooDeep = try fleet.post(Self.nestedEvent("TooDeep", depth: 511))
        #expect(tooDeep.status == 400, "\(String(describing: tooDeep.body))")
        #expect(tooDeep.body?["error"]?["message"]?.stringValue?.contains("deeper than 510") == true)
        // At the edge, and innocent events around it in the same batch: all stored.
        let edge = try fleet.post(
            #"{"events":[{"eventSource":"shop.example.com","eventName":"Before"},"# + Self.nestedEvent("AtTheEdge", depth: 510)
                + #",{"eventSource":"shop.example.com","eventName":"After"}]}"#)
        #expect(edge.status == 202, "\(String(describing: edge.body))")
        for name in ["Before", "AtTheEdge", "After"] {
            #expect(try fleet.records(["--event-name", name], atLeast: 1).count == 1, "\(fleet.agentLogs())")
        }
        let deadLetters = (try? FileManager.default.contentsOfDirectory(atPath: fleet.spoolPath("web-01") + "/dead-letter")) ?? []
        #expect(deadLetters.isEmpty)
    }

    /// A record the collector will not store (here: over its `--max-record-bytes`) is set aside
    /// alone; its neighbours in the batch are stored. Once the cause is fixed, `spool dead-letter
    /// replay` sends it again with its event ID.
    @Test func aRefusedRecordIsSetAsideAloneAndCanBeReplayed() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port, extra: ["--max-record-bytes", "4096"])
        // Spooled while the collector cannot be reached, so all twenty leave in one batch.
        let collector = try #require(fleet.collector)
        collector.crash()
        try fleet.startAgent()
        let padding = String(repeating: "x", count: 6000)
        let events = (0..<20).map { index in
            [5, 13].contains(index)
                ? #"{"eventSource":"shop.example.com","eventName":"Big\#(index)","requestParameters":{"pad":"\#(padding)"}}"#
                : #"{"eventSource":"shop.example.com","eventName":"Small\#(index)"}"#
        }
        #expect(try fleet.post(#"{"events":[\#(events.joined(separator: ","))]}"#).status == 202)
        try fleet.startCollector(port: port, extra: ["--max-record-bytes", "4096"])
        let small = try fleet.waitForStored(sourceSuffix: "shop.example.com", count: 18)
        #expect(small.count == 18 && small.allSatisfy { $0.eventName?.hasPrefix("Small") == true }, "\(fleet.agentLogs())")

        let spool = fleet.spoolPath("web-01")
        let list = try Command.run(TestBinaries.agent, ["spool", "dead-letter", "list", "--spool-dir", spool])
        #expect(list.status == 0, "\(list)")
        let lines = list.stdout.split(separator: "\n").filter { $0.contains("\t") }
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains("\t1 records\t") && $0.contains("RecordTooLarge") }, "\(list.stdout)")
        #expect(try fleet.storedRecords(sourceSuffix: "shop.example.com").count == 18)

        // The limit raised, the two sent again: all twenty stored, each once.
        fleet.collector?.crash()
        try fleet.startCollector(port: port)
        let replay = try Command.run(TestBinaries.agent, ["spool", "dead-letter", "replay", "--all", "--spool-dir", spool])
        #expect(replay.status == 0 && replay.stdout.contains("2 batches"), "\(replay)")
        let all = try fleet.waitForStored(sourceSuffix: "shop.example.com", count: 20)
        #expect(all.count == 20 && Set(all.map(\.eventID)).count == 20, "\(fleet.agentLogs())")
        #expect(try Command.run(TestBinaries.agent, ["spool", "dead-letter", "list", "--spool-dir", spool]).stdout.contains("(0 batches"))
    }
}

extension HostileClientTests {
    /// Opens `count` connections to `socket` and sends a request one byte every `interval`
    /// seconds, for `duration`; prints, a connection each, when (seconds) and how it ended
    /// (the start of the answer, or "eof"/"reset"), or null if it never did.
    static let trickler = #"""
        import json, socket, sys, time
        path, count, interval, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
        body = b'{"eventSource":"shop.example.com","eventName":"Trickled"}'
        request = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        connections = []
        for _ in range(count):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.setblocking(False)
            connections.append({"socket": s, "sent": 0, "ended": None})
        print("connected", flush=True)
        start = time.time()
        while time.time() - start < duration and any(c["ended"] is None for c in connections):
            for c in connections:
                if c["ended"] is not None:
                    continue
                try:
                    data = c["socket"].recv(4096)
                    c["ended"] = [round(time.time() - start, 2), data[:12].decode(errors="replace") or "eof"]
                    continue
                except BlockingIOError:
                    pass
                except OSError:
                    c["ended"] = [round(time.time() - start, 2), "reset"]
                    continue
                if c["sent"] < len(request):
                    try:
                        c["socket"].send(request[c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                    except OSError:
                        c["ended"] = [round(time.time() - start, 2), "reset"]
            time.sleep(interval)
        print("result " + json.dumps([c["ended"] for c in connections]), flush=True)
        """#

    /// Slowloris on the socket: an account's connections trickling a byte at a time were never cut
    /// off (the timeout was an idle timer), and 1,100 of them took every descriptor. Now a request
    /// must be whole within the deadline, one account holds at most its share of connections, and
    /// a well-behaved client is served throughout.
    @Test func tricklingConnectionsAreCutOffAndOthersAreServed() throws {
        let accounts = try ApplicationSocketTests.Accounts.created()
        defer { accounts.delete() }
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--socket-read-timeout-ms", "2000", "--max-connections-per-uid", "16"])
        let script = fleet.directory.file("trickler.py")
        try Data(Self.trickler.utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o644)
        chmod(fleet.directory.path, 0o755)
        let hostile = try TestProcess(
            "/usr/sbin/runuser", ["-u", accounts.names[0], "--", "python3", script, fleet.socketPath("web-01"), "60", "0.2", "12"],
            logPath: fleet.directory.file("trickler.log"))
        try hostile.waitForLog("connected")
        // While they trickle: another client is served, at once.
        let started = Date()
        let served = try fleet.post(#"{"eventSource":"shop.example.com","eventName":"Served"}"#)
        #expect(served.status == 202 && Date().timeIntervalSince(started) < 2, "\(served)")
        _ = try hostile.waitForExit(timeout: 30)
        let result = try #require(hostile.log.split(separator: "\n").first { $0.hasPrefix("result ") })
        let ended = try #require(try JSONSerialization.jsonObject(with: Data(result.dropFirst(7).utf8)) as? [Any])
        let outcomes = ended.map { $0 as? [Any] }
        #expect(outcomes.allSatisfy { $0 != nil }, "a trickling connection was never cut off: \(result)")
        let refused = outcomes.compactMap { $0 }.filter { ($0[1] as? String)?.hasPrefix("HTTP/1.1 503") == true }
        #expect(refused.count == 60 - 16, "\(result)")
        // The sixteen admitted are cut off at the deadline (2 s), not when the client is done.
        let cut = outcomes.compactMap { $0 }.filter { ($0[1] as? String)?.hasPrefix("HTTP/1.1 503") != true }
        #expect(cut.count == 16 && cut.allSatisfy { (($0[0] as? Double) ?? 99) < 5 }, "\(result)")
        #expect(try fleet.records(["--event-name", "Served"], atLeast: 1).count == 1)
        #expect(try fleet.storedRecords(eventName: "Trickled").isEmpty)
    }
}

extension HostileClientTests {
    /// From `address`, opens `count` connections to `port`: bare TCP, half a ClientHello, and
    /// finished TLS handshakes left idle, a third each; prints, a connection each, how many seconds
    /// it stayed open (null: still open after `duration`).
    static let flooder = #"""
        import json, socket, ssl, sys, time
        address, port, count, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connections = []
        start = time.time()
        for index in range(count):
            s = socket.socket()
            s.bind((address, 0))
            try:
                s.connect(("127.0.0.1", port))
                kind = index % 3
                if kind == 1:
                    s.send(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))  # the start of a ClientHello
                elif kind == 2:
                    s.settimeout(2)
                    s = context.wrap_socket(s)  # a whole handshake, then silence
            except (OSError, ssl.SSLError):
                connections.append({"socket": None, "ended": 0.0})
                continue
            s.setblocking(False)
            connections.append({"socket": s, "ended": None})
        print("connected", flush=True)
        while time.time() - start < duration and any(c["ended"] is None for c in connections):
            for c in connections:
                if c["ended"] is not None:
                    continue
                try:
                    if c["socket"].recv(4096) == b"":
                        c["ended"] = round(time.time() - start, 2)
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                except (OSError, ssl.SSLError):
                    c["ended"] = round(time.time() - start, 2)
            time.sleep(0.05)
        print("result " + json.dumps([c["ended"] for c in connections]), flush=True)
        """#

    /// Without credentials, idle TCP connections, half ClientHellos and idle TLS connections stayed
    /// open for good; 1,100 of them left no descriptor for `/healthz` or ingest. Now one address
    /// holds at most its share, every connection is closed when no whole request came in time,
    /// and the collector answers others throughout.
    @Test func aConnectionFloodIsCutOffAndTheCollectorKeepsAnswering() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--max-connections-per-address", "60", "--request-timeout-ms", "2000"])
        let port = try #require(Int(fleet.collectorURL.split(separator: ":").last ?? ""))
        try fleet.startAgent()
        let script = fleet.directory.file("flooder.py")
        try Data(Self.flooder.utf8).write(to: URL(fileURLWithPath: script))
        let flood = try TestProcess("/usr/bin/python3", [script, "127.0.0.5", "\(port)", "1100", "15"], logPath: fleet.directory.file("flood.log"))
        try flood.waitForLog("connected", timeout: 60)
        // During the flood, from other addresses: health, and an agent's ingest.
        let health = try Command.run(
            "curl",
            [
                "-sS", "--interface", "127.0.0.2", "--cacert", fleet.certificates + "/ca.pem", "-o", "/dev/null", "-w", "%{http_code}",
                "--max-time", "5", fleet.collectorURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/healthz",
            ])
        #expect(health.stdout == "200", "\(health)")
        #expect(try fleet.post(#"{"eventSource":"shop.example.com","eventName":"DuringTheFlood"}"#).status == 202)
        #expect(try fleet.records(["--event-name", "DuringTheFlood"], atLeast: 1).count == 1)
        _ = try flood.waitForExit(timeout: 60)
        let result = try #require(flood.log.split(separator: "\n").first { $0.hasPrefix("result ") })
        let ended = try #require(try JSONSerialization.jsonObject(with: Data(result.dropFirst(7).utf8)) as? [Any])
        let seconds = ended.map { ($0 as? NSNumber)?.doubleValue }
        #expect(seconds.count == 1100 && seconds.allSatisfy { $0 != nil }, "connections still open: \(seconds.filter { $0 == nil }.count)")
        // Past the address's share: closed at once. The rest: at the deadline, not at the end.
        #expect(seconds.compactMap { $0 }.filter { $0 > 1 }.count <= 60, "\(result.prefix(400))")
        #expect(seconds.compactMap { $0 }.allSatisfy { $0 < 6 }, "\(result.prefix(400))")
        #expect(fleet.collector?.log.contains("closing connections over a limit") == true)
    }
}

extension HostileClientTests {
    /// Asks for one lookup page of about 4 MB with web-01's certificate, then for `/healthz`, and
    /// never reads an answer (a receive buffer of 4 KiB); prints `asked <its local port>` and
    /// waits to be killed.
    static let nonReader = #"""
        import json, socket, ssl, sys, time
        port, certificates = int(sys.argv[1]), sys.argv[2]
        context = ssl.create_default_context(cafile=certificates + "/ca.pem")
        context.check_hostname = False
        context.load_cert_chain(certificates + "/web-01.pem", certificates + "/web-01-key.pem")
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        s = context.wrap_socket(raw)
        body = json.dumps({"MaxResults": 50}).encode()
        s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  + b"X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents\r\n"
                  + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        # Once that answer waits on this client, one more request: read whole while no answer is
        # owed, its own answer then waits behind the first.
        time.sleep(1)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        print(f"asked {s.getsockname()[1]}", flush=True)
        time.sleep(600)
        """#

    /// A client that asked for an answer and never read it held its connection for good: the
    /// request had arrived whole, the answer waited on the client, and no deadline ran. Now an
    /// answer left unread for the request timeout closes the connection.
    @Test func aClientThatNeverReadsItsAnswerIsClosed() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--request-timeout-ms", "3000"])
        let port = try #require(Int(fleet.collectorURL.split(separator: ":").last ?? ""))
        // Ten records of 400 KB: a lookup page of 4 MB, more than the socket buffers hold.
        let records = (0..<10).map { index in
            #"{"eventVersion":"1.11","eventID":"6f1c7c0e-0000-4000-8000-00000000010\#(index)","eventTime":"2026-12-05T10:00:00Z","#
                + #""eventSource":"shop.example.com","eventName":"Big","requestParameters":{"pad":"\#(String(repeating: "x", count: 400_000))"}}"#
        }
        try Data((#"{"Records":["# + records.joined(separator: ",") + "]}").utf8).write(to: URL(fileURLWithPath: fleet.directory.file("big.json")))
        let stored = try fleet.deliver(["--data-binary", "@" + fleet.directory.file("big.json")])
        #expect(stored.stdout.hasSuffix("\n200"), "\(stored.stdout.prefix(300))")
        let script = fleet.directory.file("non-reader.py")
        try Data(Self.nonReader.utf8).write(to: URL(fileURLWithPath: script))
        let client = try TestProcess(
            "/usr/bin/python3", [script, "\(port)", fleet.certificates], logPath: fleet.directory.file("non-reader.log"), unblockingSignals: true)
        defer { _ = client.stop() }
        let clientPort = try client.waitForLog(#"asked (\d+)"#, timeout: 30)
        let asked = Date()
        let collectorPid = try #require(fleet.collector?.pid)
        /// Whether the collector still holds its end of the connection (a closed one may linger
        /// in the kernel, unsent, but belongs to no process).
        func held() throws -> Bool {
            try Command.run("ss", ["-tnpH", "sport = :\(port) and dport = :\(clientPort)"]).stdout.contains("pid=\(collectorPid),")
        }
        #expect(try held(), "closed before the answer could stall")
        while try held(), Date().timeIntervalSince(asked) < 15 { usleep(100_000) }
        #expect(try !held(), "still open 15 s after the client asked and stopped reading")
        // The request timeout (3 s) and the TLS close's wait for close_notify (1 s).
        #expect(Date().timeIntervalSince(asked) < 8)
    }
}

extension HostileClientTests {
    /// Event IDs derive from machine IDs any record shows, so one host could store a record under
    /// the ID another host's agent would give its next event, and the real record was then
    /// answered as a duplicate and never stored. Now an ID is unique per host: both are kept and
    /// the collision is recorded. And a host's certificate reads its own host only.
    @Test func oneHostCannotPreemptAnotherHostsEventID() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        // The two agents run on one machine: the same request ID from the same account gives the
        // same event ID, which is what a host that learnt another's machine ID can make.
        try fleet.startAgent("web-02")
        let planted = try fleet.post(#"{"eventSource":"shop.example.com","eventName":"Planted","requestID":"pre-empt-1"}"#, to: "web-02")
        let plantedID = try #require(planted.body?["eventIDs"]?.arrayValue?.first?.stringValue)
        #expect(try fleet.records(["--event-name", "Planted"], atLeast: 1).count == 1)
        try fleet.startAgent("web-01")
        let real = try fleet.post(#"{"eventSource":"shop.example.com","eventName":"Real","requestID":"pre-empt-1"}"#)
        #expect(real.body?["eventIDs"]?.arrayValue?.first?.stringValue == plantedID)
        let stored = try fleet.records(["--event-name", "Real"], atLeast: 1)
        #expect(stored.count == 1 && stored.first?.additionalEventData?["host"]?["hostname"]?.stringValue == "web-01", "\(fleet.agentLogs())")
        let both = try fleet.records(["--event-id", plantedID], atLeast: 2)
        #expect(Set(both.map(\.eventName)) == ["Planted", "Real"])
        let alerts = try fleet.records(["--event-name", "EventIDCollision"], atLeast: 1)
        #expect(alerts.count == 1 && alerts.first?.errorCode == "EventIDCollision", "\(alerts)")
        #expect(alerts.first?.requestParameters?["otherHosts"] == ["web-02"])
        #expect(alerts.first?.requestParameters?["host"] == "web-01")
        // Among the collector's own records, where no host writes: web-02 could otherwise store a
        // record under the alert's (derivable) ID first, and the alert would be a duplicate.
        #expect(alerts.first?.additionalEventData?["host"]?["hostname"]?.stringValue == "collector")
        // web-02's certificate is no fleet reader: it sees its own record only, and no alert.
        let seenByWeb02 = try fleet.records(["--event-id", plantedID], atLeast: 1, timeout: 3, certificateHost: "web-02")
        #expect(seenByWeb02.map(\.eventName) == ["Planted"])
        let everything = try fleet.records(["--event-source", "shop.example.com"], atLeast: 1, timeout: 3, certificateHost: "web-02")
        #expect(everything.allSatisfy { $0.additionalEventData?["host"]?["hostname"]?.stringValue == "web-02" })
        #expect(try fleet.records(["--event-name", "EventIDCollision"], atLeast: 0, timeout: 5, certificateHost: "web-02").isEmpty)
        // Nor can a host write the collector's records.
        let forged =
            #"{"Records":[{"eventVersion":"1.11","eventID":"6f1c7c0e-0000-4000-8000-000000000009","eventTime":"2026-12-05T10:00:00Z","#
            + #""eventSource":"collector.hosttrail","eventName":"EventIDCollision"}]}"#
        let refused = try fleet.deliver(["--data-binary", forged], as: "web-02")
        #expect(refused.stdout.hasSuffix("\n403") && refused.stdout.contains("ReservedEventSource"), "\(refused.stdout)")
    }
}

extension HostileClientTests {
    /// One 10 MB record made every newest-50 lookup slow (p50 1.4 s at 20 clients) and 200-way
    /// lookups took 2.7 GB: a record over `--max-record-bytes` is refused on its own, with a clear
    /// code, and the rest of its batch is stored.
    @Test func aHugeRecordIsRefusedOnItsOwn() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        func record(_ name: String, index: Int, pad: Int) -> String {
            #"{"eventVersion":"1.11","eventID":"6f1c7c0e-0000-4000-8000-00000000000\#(index)","eventTime":"2026-12-05T10:00:00Z","#
                + #""eventSource":"shop.example.com","eventName":"\#(name)","requestParameters":{"pad":"\#(String(repeating: "x", count: pad))"}}"#
        }
        let body = fleet.directory.file("batch.json.gz")
        let json = #"{"Records":["# + record("Small", index: 1, pad: 10) + "," + record("Huge", index: 2, pad: 10_000_000) + "]}"
        try Data(json.utf8).write(to: URL(fileURLWithPath: fleet.directory.file("batch.json")))
        #expect(try Command.run("gzip", ["-k", fleet.directory.file("batch.json")]).status == 0)
        let answer = try fleet.deliver(["-H", "Content-Encoding: gzip", "--data-binary", "@\(body)"])
        #expect(
            answer.stdout.hasSuffix("\n400") && answer.stdout.contains(#""code":"RecordTooLarge""#) && answer.stdout.contains(#""index":1"#),
            "\(answer.stdout.prefix(500))")
        // Sent again without it (as the agent does), the rest is stored; lookups carry no huge record.
        let small = #"{"Records":["# + record("Small", index: 1, pad: 10) + "]}"
        let again = try fleet.deliver(["--data-binary", small])
        #expect(again.stdout.hasSuffix("\n200"), "\(again.stdout)")
        #expect(try fleet.records(["--event-source", "shop.example.com"], atLeast: 1).map(\.eventName) == ["Small"])
    }
}
