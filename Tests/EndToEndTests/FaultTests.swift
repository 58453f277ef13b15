// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// Nothing lost, nothing twice: a steady stream of events through real processes while agents and
/// collectors are killed, the collector is unreachable, and the spool fills.
/// `make soak` multiplies the fault tests' rounds (HOSTTRAIL_SOAK=10).
enum Soak {
    static let multiplier = Int(ProcessInfo.processInfo.environment["HOSTTRAIL_SOAK"] ?? "") ?? 1
    static let timeLimit: TimeLimitTrait = multiplier > 1 ? .timeLimit(.minutes(60)) : .endToEnd
}

@Suite(.serialized, Soak.timeLimit)
struct FaultTests {
    static let soak = Soak.multiplier

    /// Waits until every acknowledged event is stored, then checks: each exactly once, nothing else.
    func expectDelivered(_ acknowledged: [Int: String], fleet: Fleet, source: String = "fault.example.com", timeout: TimeInterval = 90) throws {
        let expected = Set(acknowledged.values)
        #expect(expected.count == acknowledged.count, "two events got one ID")
        let deadline = Date().addingTimeInterval(timeout)
        var stored: [String] = []
        while Date() < deadline {
            stored = try fleet.storedEventIDs(source: source)
            if Set(stored).isSuperset(of: expected) { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let missing = expected.subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) acknowledged events never reached the store")
        #expect(stored.count == expected.count, "stored \(stored.count) events for \(expected.count) acknowledged")
    }

    /// The `spool.*` counters of the last log line containing `message`.
    static func counters(in log: String, message: String) throws -> [String: Int] {
        let line = try #require(log.split(separator: "\n").last { $0.contains(message) })
        var counters: [String: Int] = [:]
        for field in line.split(separator: " ") where field.hasPrefix("spool.") {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { counters[String(parts[0])] = value }
        }
        return counters
    }

    @Test func theAgentKilledTwentyTimesLosesAndRepeatsNothing() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"))
        feeder.start()
        let rounds = 20 * Self.soak
        for round in 0..<rounds {
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.4))
            fleet.agents["web-01"]?.crash()
            if round % 5 == 4 { Thread.sleep(forTimeInterval: 0.3) }  // sometimes stay down a while
            try fleet.startAgent()
        }
        Thread.sleep(forTimeInterval: 0.3)
        let acknowledged = feeder.stop()
        #expect(acknowledged.count > 100, "the feeder barely ran: \(feeder.statusCounts)")
        try expectDelivered(acknowledged, fleet: fleet)
        // One start per round plus the first, all after a crash but the first: each is in the trail.
        #expect(try fleet.storedRecords(eventName: "AgentStarted").count == rounds + 1)
    }

    @Test func theCollectorKilledTenTimesAndUnreachableForAMinuteLosesNothing() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        try fleet.startAgent()
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"))
        feeder.start()
        for _ in 0..<(10 * Self.soak) {
            Thread.sleep(forTimeInterval: Double.random(in: 0.1...0.5))
            fleet.collector?.crash()
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.3))
            try fleet.startCollector(port: port)
        }
        // Unreachable for a minute: the agent keeps accepting and spooling.
        fleet.collector?.crash()
        let before = feeder.acknowledgedCount
        Thread.sleep(forTimeInterval: 60)
        #expect(feeder.acknowledgedCount > before + 1000, "the socket stopped acknowledging while the collector was down")
        try fleet.startCollector(port: port)
        Thread.sleep(forTimeInterval: 0.5)
        let acknowledged = feeder.stop()
        try expectDelivered(acknowledged, fleet: fleet)
    }

    @Test func aFullSpoolUnderTheBlockPolicyRefusesAndLosesNothing() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        fleet.collector?.crash()  // nothing ships: the spool fills
        try fleet.startAgent(extra: ["--spool-max-bytes", "1048576", "--spool-full-policy", "block"])
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"), interval: 0)
        feeder.start()
        let deadline = Date().addingTimeInterval(60)
        while feeder.statusCounts[503] == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(feeder.statusCounts[503] != nil, "the spool never filled: \(feeder.statusCounts)")
        let stats = try Command.run(TestBinaries.agent, ["spool", "stats", "--spool-dir", fleet.spoolPath("web-01")])
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(stats.stdout.utf8))
        if case .integer(let bytes) = report["bytes"] { #expect(bytes <= 1_048_576) } else { Issue.record("no bytes in \(stats)") }
        try fleet.startCollector(port: port)
        Thread.sleep(forTimeInterval: 2)
        let acknowledged = feeder.stop()
        try expectDelivered(acknowledged, fleet: fleet)
    }

    @Test func aFullSpoolUnderDropOldestAccountsForEveryDrop() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        fleet.collector?.crash()
        try fleet.startAgent(extra: ["--spool-max-bytes", "1048576", "--spool-full-policy", "drop_oldest"])
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"), interval: 0)
        feeder.start()
        let agentLog = try #require(fleet.agents["web-01"])
        try agentLog.waitForLog("spool full: dropped the oldest records", timeout: 120)
        Thread.sleep(forTimeInterval: 0.5)
        let acknowledged = feeder.stop()
        #expect(feeder.statusCounts[503] == nil, "drop_oldest never refuses: \(feeder.statusCounts)")
        try fleet.startCollector(port: port)

        let expected = Set(acknowledged.values)
        var stored: Set<String> = []
        var dropped = 0
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            stored = Set(try fleet.storedEventIDs(source: "fault.example.com"))
            let drops = try fleet.storedRecords(eventName: "EventsDropped")
            dropped = drops.reduce(0) { total, record in
                if case .integer(let count) = record.requestParameters?["count"] { return total + Int(count) }
                return total
            }
            if stored.count + dropped >= expected.count && !drops.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        // Stored events are acknowledged ones, never twice; every other acknowledged event is counted
        // in an EventsDropped record (whose counts may also include earlier EventsDropped records).
        #expect(stored.isSubset(of: expected))
        #expect(dropped > 0)
        #expect(stored.count + dropped >= expected.count, "stored \(stored.count) + dropped \(dropped) < acknowledged \(expected.count)")
        let records = try fleet.storedRecords(eventName: "EventsDropped")
        #expect(records.allSatisfy { $0.requestParameters?["firstEventTime"]?.stringValue != nil && $0.errorCode == "EventsDropped" })
    }

    @Test func sigtermUnderLoadExitsWithinFiveSecondsAndLosesNothing() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let agent = try fleet.startAgent()
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"), interval: 0)
        feeder.start()
        Thread.sleep(forTimeInterval: 2)
        let started = Date()
        #expect(agent.stop(timeout: 10) == 0)
        #expect(Date().timeIntervalSince(started) < 5, "graceful stop took \(Date().timeIntervalSince(started)) s")
        // The counters in the agent's last log line reconcile.
        let counters = try Self.counters(in: agent.log, message: "agent stopping")
        #expect(counters["spool.received", default: -1] > 0)
        #expect(
            counters["spool.received"] == counters["spool.acknowledged", default: 0] + counters["spool.pending", default: 0]
                + counters["spool.dropped.full", default: 0] + counters["spool.dropped.corrupt", default: 0]
                + counters["spool.dead-lettered", default: 0], "\(counters)")
        try fleet.startAgent()
        let acknowledged = feeder.stop()
        try expectDelivered(acknowledged, fleet: fleet)
        #expect(try fleet.storedRecords(eventName: "AgentStopped").count == 1)
    }

    @Test func spoolVerifyAndStatsReportDamageAndTheAgentRecoversFromIt() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        fleet.collector?.crash()
        let agent = try fleet.startAgent()
        for n in 0..<50 {
            #expect(try fleet.post(#"{"eventSource":"fault.example.com","eventName":"Damage","requestParameters":{"n":\#(n)}}"#).status == 202)
        }
        agent.crash()
        let spool = fleet.spoolPath("web-01")
        #expect(try Command.run(TestBinaries.agent, ["spool", "verify", "--spool-dir", spool]).status == 0)

        // Flip a byte inside one record and tear the tail of the newest segment.
        let segments = try FileManager.default.contentsOfDirectory(atPath: spool + "/segments").sorted()
            .map { spool + "/segments/" + $0 }
            .filter { ((try? Data(contentsOf: URL(fileURLWithPath: $0)))?.count ?? 0) > 4096 }
        let path = try #require(segments.last)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let entries = SpoolFrame.scan(bytes).entries
        bytes[entries[20].offset + 30] ^= 0xFF
        // A frame header cut short, where the next commit goes: at the end of the data, over the
        // prepared zeros the agent writes ahead (or at the end of the file when there are none).
        let end = SpoolFrame.scan(bytes).dataEnd
        bytes.replaceSubrange(end..<min(end + 6, bytes.count), with: [0x40, 0x00, 0x00, 0x00, 0xAA, 0xBB])
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let verify = try Command.run(TestBinaries.agent, ["spool", "verify", "--spool-dir", spool])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("corrupt bytes"), "\(verify)")
        #expect(verify.stderr.contains("unfinished write"), "\(verify)")

        try fleet.startCollector(port: port)
        let restarted = try fleet.startAgent()
        #expect(restarted.log.contains("cut a torn tail off the spool"))
        #expect(restarted.log.contains("kept every valid record"))
        let deadline = Date().addingTimeInterval(30)
        var stored: [String] = []
        var recovered: [CloudTrailRecord] = []
        // SpoolRecovered is committed at start, behind the records the spool held: it may ship in a later batch.
        while Date() < deadline {
            stored = try fleet.storedEventIDs(source: "fault.example.com")
            recovered = try fleet.storedRecords(eventName: "SpoolRecovered")
            if stored.count >= 49 && !recovered.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        #expect(stored.count == 49, "every valid record is kept, the damaged one is reported")
        #expect(recovered.count == 1)
        #expect(recovered.first?.requestParameters?["tornTails"] == .integer(1))
        #expect(recovered.first?.requestParameters?["corruptRanges"] == .integer(1))
    }

    @Test func aFullDiskRefusesWithoutCrashingAndRecoversWhenTheCollectorTakesTheRecords() throws {
        let fleet = try Fleet()
        // A 2 MiB tmpfs as the spool's disk (root only; CI runs as root, and a failure to mount
        // fails this test rather than skipping it).
        let mountPoint = fleet.directory.file("small-disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try Command.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])
        try #require(mount.status == 0, "cannot mount a tmpfs: \(mount)")
        defer { _ = try? Command.run("umount", ["-l", mountPoint]) }

        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        fleet.collector?.crash()
        let agent = try fleet.startAgent(extra: ["--spool-dir", mountPoint + "/spool"])
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"), interval: 0)
        feeder.start()
        let deadline = Date().addingTimeInterval(60)
        while feeder.statusCounts[503] == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(feeder.statusCounts[503] != nil, "the disk never filled: \(feeder.statusCounts)")
        #expect(agent.process.isRunning, "a full disk must not stop the agent:\n\(agent.log)")
        #expect(try fleet.curlSocket(["http://localhost/v1/health"]).status == 200)

        try fleet.startCollector(port: port)
        // Once the collector has the records, acknowledged segments give their room back.
        let recovered = Date().addingTimeInterval(60)
        let refusedSoFar = feeder.statusCounts[503] ?? 0
        let acceptedSoFar = feeder.acknowledgedCount
        while feeder.acknowledgedCount < acceptedSoFar + 2000 && Date() < recovered { Thread.sleep(forTimeInterval: 0.1) }
        #expect(feeder.acknowledgedCount >= acceptedSoFar + 2000, "the agent did not recover its disk: \(feeder.statusCounts)")
        let acknowledged = feeder.stop()
        #expect(refusedSoFar > 0)
        try expectDelivered(acknowledged, fleet: fleet)
    }

    @Test func aFullCollectorDiskAnswers503AndTheRecordsArriveOnceThereIsRoom() throws {
        let fleet = try Fleet()
        let dataDirectory = fleet.directory.file("collector")
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let mount = try Command.run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dataDirectory])
        try #require(mount.status == 0, "cannot mount a tmpfs: \(mount)")
        defer { _ = try? Command.run("umount", ["-l", dataDirectory]) }

        try fleet.startCollector()
        let agent = try fleet.startAgent()
        let feeder = EventFeeder(socket: fleet.socketPath("web-01"), interval: 0)
        feeder.start()
        // The store fills: the collector refuses with 503 and the agent keeps the records spooled.
        try agent.waitForLog("HTTP 503", timeout: 120)
        #expect(fleet.collector?.log.contains("cannot store records") == true)
        #expect(fleet.collector?.process.isRunning == true)
        let grown = try Command.run("mount", ["-o", "remount,size=256m", dataDirectory])
        try #require(grown.status == 0, "cannot grow the tmpfs: \(grown)")
        Thread.sleep(forTimeInterval: 1)
        let acknowledged = feeder.stop()
        try expectDelivered(acknowledged, fleet: fleet)
    }
}
