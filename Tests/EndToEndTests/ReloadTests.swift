// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// SIGHUP re-reads the configuration: what can change live does, what cannot is named with
/// "restart needed", and a broken file keeps the running configuration and says why.
@Suite(.serialized, .endToEnd)
struct ReloadTests {
    /// Three events from uid 65534 (rate limits do not apply to root).
    func postAsNobody(_ fleet: Fleet) throws -> Int {
        let body = #"{"events":[{"eventName":"A"},{"eventName":"B"},{"eventName":"C"}]}"#
        let result = try Command.run(
            "setpriv",
            [
                "--reuid", "65534", "--regid", "65534", "--clear-groups", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "--unix-socket", fleet.socketPath("web-01"), "-H", "Content-Type: application/json", "--data-binary", body,
                "http://localhost/v1/events",
            ])
        return Int(result.stdout) ?? -1
    }

    /// Until a stored heartbeat names `configHash` (30 s).
    func waitForHeartbeat(_ fleet: Fleet, configHash: String) throws {
        let deadline = Date().addingTimeInterval(30)
        var hashes: [String] = []
        while Date() < deadline {
            hashes = try fleet.storedRecords(eventName: "Heartbeat").compactMap { $0.requestParameters?["configHash"]?.stringValue }
            if hashes.contains(configHash) { return }
            usleep(100_000)
        }
        Issue.record("no heartbeat names configuration \(configHash): \(hashes)\n\(fleet.agentLogs())")
    }

    @Test func theAgentAppliesANewRateLimitNamesWhatNeedsARestartAndKeepsRunningOnABrokenFile() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let file = fleet.directory.file("agent.toml")
        try "rate-limit = 1\nrate-limit-burst = 1\nsocket-mode = \"0666\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let agent = try fleet.startAgent("web-01", extra: ["--config", file, "--heartbeat-interval-ms", "1000"])
        try fleet.waitForReady()
        // A full bucket admits one request whatever its size; the next waits a second an event.
        #expect(try postAsNobody(fleet) == 202)
        #expect(try postAsNobody(fleet) == 429, "three events against a rate of one a second")

        try "rate-limit = 1000\nrate-limit-burst = 1000\nsocket-mode = \"0666\"\nspool-max-bytes = 2097152\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        kill(agent.pid, SIGHUP)
        try agent.waitForLog("configuration reloaded", count: 1)
        #expect(agent.log.contains("restart needed") && agent.log.contains("key=spool-max-bytes"), "\(agent.log)")
        #expect(agent.log.contains("changed=rate-limit,rate-limit-burst"), "\(agent.log)")
        #expect(try postAsNobody(fleet) == 202 && postAsNobody(fleet) == 202)
        // Heartbeats from then on name the configuration in force, not the one the agent started with.
        let started = try agent.waitForLog(#"agent\.config-hash=([0-9a-f]{64})"#)
        let reloadLine = agent.log.split(separator: "\n").first { $0.contains("configuration reloaded") } ?? ""
        let reloaded = try #require(reloadLine.firstMatch(of: /agent\.config-hash=([0-9a-f]{64})/)?.1, "\(reloadLine)")
        #expect(reloaded != started)
        try waitForHeartbeat(fleet, configHash: String(reloaded))

        // A broken file: the agent says why, keeps the running configuration, and `validate` agrees.
        try "rate-limit = \"many\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(agent.pid, SIGHUP)
        try agent.waitForLog("configuration not reloaded", count: 1)
        let refusal = agent.log.split(separator: "\n").first { $0.contains("configuration not reloaded") } ?? ""
        #expect(refusal.contains("rate-limit") && refusal.contains("must be"), "\(agent.log)")
        #expect(try postAsNobody(fleet) == 202 && postAsNobody(fleet) == 202, "the rate limit in force is still 1000")
        let validate = try Command.run(TestBinaries.agent, ["validate", "--config", file, "--collector", "https://c.example:8443"])
        #expect(validate.status != 0 && validate.stderr.contains("rate-limit"), "\(validate)")
        #expect(agent.process.isRunning)

        // A broken response definition refuses the reload too, as `validate` refuses it.
        let responses = fleet.directory.file("responses.d")
        try FileManager.default.createDirectory(atPath: responses, withIntermediateDirectories: true)
        try "kind = \"block-address\"\nallow = [\"not-an-address\"]\n".write(toFile: responses + "/block.toml", atomically: true, encoding: .utf8)
        try "rate-limit = 1\nrate-limit-burst = 1\nsocket-mode = \"0666\"\nresponses-dir = \"\(responses)\"\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        kill(agent.pid, SIGHUP)
        try agent.waitForLog("configuration not reloaded", count: 2)
        #expect(agent.log.contains("block.toml"), "\(agent.log)")
        #expect(try postAsNobody(fleet) == 202 && postAsNobody(fleet) == 202, "the rate limit is not lowered by a refused reload")
    }

    @Test func theCollectorTakesANewAccessKeyOnSIGHUP() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        let keys = fleet.directory.file("access-keys")
        try "AKIDFIRST first-secret-0123456789\n".write(toFile: keys, atomically: true, encoding: .utf8)
        chmod(keys, 0o600)
        let file = fleet.directory.file("collector.toml")
        try "access-key-file = \"\(keys)\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        try fleet.startCollector(extra: ["--config", file])
        let collector = try #require(fleet.collector)
        #expect(try CloudTrailAPITests.aws(fleet, ["lookup-events"], keyID: "AKIDFIRST", secret: "first-secret-0123456789").status == 0)
        let refused = try CloudTrailAPITests.aws(fleet, ["lookup-events"], keyID: "AKIDSECOND", secret: "second-secret-0123456789")
        #expect(refused.status != 0 && refused.stderr.contains("UnrecognizedClientException"), "\(refused)")

        try "AKIDFIRST first-secret-0123456789\nAKIDSECOND second-secret-0123456789\n".write(toFile: keys, atomically: true, encoding: .utf8)
        chmod(keys, 0o600)
        try "access-key-file = \"\(keys)\"\nmax-connections = 100\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("configuration reloaded", count: 1)
        #expect(collector.log.contains("key=max-connections") && collector.log.contains("restart needed"), "\(collector.log)")
        #expect(try CloudTrailAPITests.aws(fleet, ["lookup-events"], keyID: "AKIDSECOND", secret: "second-secret-0123456789").status == 0)

        try "access-key-file = 42\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("configuration not reloaded", count: 1)
        #expect(try CloudTrailAPITests.aws(fleet, ["lookup-events"], keyID: "AKIDSECOND", secret: "second-secret-0123456789").status == 0)
        #expect(collector.process.isRunning)
    }

    /// SIGHUP's default action ends a process; a daemon counts hangups from its first step until
    /// its reload service traps the signal, then reloads once for them. The hangup is sent as soon
    /// as `/proc` shows it caught, while the store is opened and the listener bound.
    @Test func aHangupWhileStartingIsHonouredOnceRunning() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector { collector in
            let deadline = Date().addingTimeInterval(10)
            while !Self.catchesHangups(collector.pid) {
                guard Date() < deadline, collector.process.isRunning else {
                    Issue.record("the collector never caught SIGHUP while starting: \(collector.log)")
                    return
                }
                usleep(1000)
            }
            kill(collector.pid, SIGHUP)
        }
        let collector = try #require(fleet.collector)
        try collector.waitForLog("configuration reloaded", count: 1)
        #expect(collector.process.isRunning)
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("configuration reloaded", count: 2)
    }

    /// Whether `SigCgt` in /proc/PID/status has SIGHUP's bit (a handler is installed).
    static func catchesHangups(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
            let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << (UInt64(SIGHUP) - 1)) != 0
    }

    @Test func newEventSelectorsApplyToTheJournalFromTheNextEntryOn() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 60)
        try JournalFixture.write(
            [
                .init(identifier: "nginx", message: "GET /before 200", realtime: start, facility: 3),
                .init(identifier: "sshd", message: "Accepted password for alice from 198.51.100.7 port 1 ssh2", realtime: start + 1000),
            ], to: journal, name: "first.journal")
        let file = fleet.directory.file("agent.toml")
        try "read-from = \"beginning\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let agent = try fleet.startAgent("web-01", extra: ["--config", file, "--journal-directory", journal])
        _ = try fleet.waitForStored(sourceSuffix: "sshd.linux", count: 1)

        try "read-from = \"beginning\"\nevent-selector = [\"include identifier=nginx\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(agent.pid, SIGHUP)
        try agent.waitForLog("configuration reloaded", count: 1)
        try agent.waitForLog("event selectors replaced", count: 1)
        #expect(agent.log.contains("changed=event-selector"), "\(agent.log)")
        try JournalFixture.write(
            [.init(identifier: "nginx", message: "GET /after 200", realtime: start + 2000, facility: 3)], to: journal, name: "second.journal")
        let kept = try fleet.waitForStored(sourceSuffix: "nginx.linux", count: 1)
        #expect(kept.map { $0.additionalEventData?["message"]?.stringValue } == ["GET /after 200"], "\(fleet.agentLogs())")
    }

    @Test func aReloadStartsAndStopsTailingFiles() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let first = fleet.directory.file("first/auth.log")
        let second = fleet.directory.file("second/auth.log")
        for path in [first, second] {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        func append(_ path: String, _ user: String) throws {
            let handle = try #require(FileHandle(forWritingAtPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(
                contentsOf: Data("2026-12-05T10:00:00.000000+00:00 vm sshd[7]: Accepted password for \(user) from 10.0.0.7 port 22 ssh2\n".utf8))
        }
        let file = fleet.directory.file("agent.toml")
        try "read-from = \"end\"\ntail-file = [\"\(first)\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let agent = try fleet.startAgent("web-01", extra: ["--config", file], filesFromConfig: true)
        try fleet.waitForReady()
        try append(second, "unread")
        try append(first, "one")
        _ = try fleet.waitForStored(sourceSuffix: "sshd.linux", count: 1)

        try "read-from = \"end\"\ntail-file = [\"\(second)\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(agent.pid, SIGHUP)
        try agent.waitForLog("tailed files replaced", count: 1)
        #expect(agent.log.contains("changed=tail-file"), "\(agent.log)")
        try fleet.waitForReady()
        try append(second, "two")
        try append(first, "not-read-any-more")
        // Polled in the same round as the first file would be, were it still tailed.
        try append(second, "three")
        _ = try fleet.waitForStored(sourceSuffix: "sshd.linux", count: 3)
        let users = Set(try fleet.storedRecords(sourceSuffix: "sshd.linux").compactMap { $0.userIdentity?.userName })
        // The line written to the second file before it was tailed stays unread (`read-from end`).
        #expect(users == ["one", "two", "three"], "\(users)\n\(agent.log)")
    }
}
