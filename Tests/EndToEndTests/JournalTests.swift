// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The journal source against journal files written by `systemd-journal-remote` (deterministic
/// fixtures) and against a real journald instance of the test's own (a journald namespace).
@Suite(.serialized, .endToEnd)
struct JournalTests {
    /// The `journal.entries` count an agent logged when it stopped reading: how many entries it read.
    static func entriesRead(_ log: String) -> [Int] {
        log.split(separator: "\n").filter { $0.contains("stopped reading the journal") }.compactMap { line in
            line.range(of: "journal.entries=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        }
    }

    @Test func fixtureEntriesBecomeRecordsAndARestartReadsNothingTwice() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 60)
        try JournalFixture.write(
            [
                .init(identifier: "sshd", message: "Failed password for invalid user eve from 203.0.113.9 port 4000 ssh2", realtime: start),
                .init(
                    identifier: "sshd", message: "Accepted publickey for alice from 198.51.100.7 port 50022 ssh2: ED25519 SHA256:abc",
                    realtime: start + 1000, pid: 77),
                .init(
                    identifier: "sudo", message: "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", realtime: start + 2000,
                    facility: 10),
                .init(identifier: "kernel", message: "eth0: link up", realtime: start + 3000, facility: 0),
                .init(identifier: "nginx", message: "GET / 200", realtime: start + 3500, facility: 3),
                .init(
                    identifier: "systemd", message: "nginx.service: Failed with result 'exit-code'.", realtime: start + 4000, pid: 1, facility: 3,
                    extra: ["UNIT": "nginx.service"]),
                // PAM lines of a program no rule names are read through the authpriv facility match.
                .init(
                    identifier: "myapp", message: "pam_unix(myapp:session): session opened for user bob(uid=1001) by (uid=0)", realtime: start + 5000,
                    facility: 10),
            ], to: journal, name: "fixture.journal")
        var agent = try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "beginning"])
        let records = try fleet.waitForStored(sourceSuffix: ".linux", count: 5)
        #expect(records.count == 5, "\(records.map(\.eventName)); agent:\n\(fleet.agentLogs())")
        #expect(Set(records.map(\.eventID)).count == records.count)

        let failed = try #require(records.first { $0.errorCode == "InvalidUser" })
        #expect(failed.eventSource == "sshd.linux" && failed.eventName == "Login")
        #expect(failed.userIdentity?.userName == HostActivity.hiddenUserName)
        #expect(failed.sourceIPAddress == "203.0.113.9")
        #expect(failed.eventTime == TrailTime.format(Date(timeIntervalSince1970: Double(start) / 1_000_000)))

        let login = try #require(records.first { $0.userIdentity?.userName == "alice" && $0.eventSource == "sshd.linux" })
        #expect(login.sourceIPAddress == "198.51.100.7")
        #expect(login.additionalEventData?["process"]?["pid"]?.integerValue == 77)
        #expect(login.additionalEventData?["origin"]?["source"]?.stringValue == "journal")
        #expect(login.additionalEventData?["origin"]?["cursor"]?.stringValue?.hasPrefix("s=") == true)
        #expect(login.additionalEventData?["origin"]?["bootId"]?.stringValue == "0123456789abcdef0123456789abcdef")

        let sudo = try #require(records.first { $0.eventSource == "sudo.linux" })
        #expect(sudo.userIdentity?.sessionContext?.sessionIssuer?.userName == "alice")
        let unit = try #require(records.first { $0.eventSource == "systemd.linux" })
        #expect(unit.eventName == "UnitFailed" && unit.additionalEventData?["origin"]?["unit"]?.stringValue == "nginx.service")
        #expect(records.contains { $0.eventSource == "myapp.linux" && $0.userIdentity?.userName == "bob" })

        // Journald's matches kept the kernel and nginx entries from being read at all.
        #expect(agent.stop() == 0)
        #expect(Self.entriesRead(agent.log) == [5], "\(agent.log)")
        // Resumed at the saved cursor: the entry it names is not read again, nor anything before
        // it. A later entry, once stored, shows the reader has gone past them all.
        agent = try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "beginning"])
        try JournalFixture.write(
            [.init(identifier: "sshd", message: "Accepted password for sentinel from 10.0.0.1 port 22 ssh2", realtime: start + 6000)], to: journal,
            name: "sentinel.journal")
        #expect(try fleet.records(["--user", "sentinel"], atLeast: 1).count == 1)
        #expect(agent.stop() == 0)
        #expect(Self.entriesRead(agent.log) == [1], "\(agent.log)")
    }

    @Test func eventSelectorsKeepUnknownLinesAndDropParsedOnes() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 60)
        try JournalFixture.write(
            [
                .init(identifier: "sshd", message: "Accepted password for alice from 198.51.100.7 port 1 ssh2", realtime: start),
                .init(identifier: "kernel", message: "eth0: link up", realtime: start + 1000, facility: 0),
                .init(identifier: "nginx", message: "GET / 200", realtime: start + 2000, facility: 3, extra: ["_SYSTEMD_UNIT": "nginx.service"]),
                .init(
                    identifier: "backup", message: "archived 12 files", realtime: start + 3000, facility: 3,
                    extra: ["_SYSTEMD_UNIT": "backup.service"]),
                .init(
                    identifier: "systemd", message: "nginx.service: Failed with result 'exit-code'.", realtime: start + 4000, pid: 1, facility: 3,
                    extra: ["UNIT": "nginx.service"]),
            ], to: journal, name: "fixture.journal")
        let agent = try fleet.startAgent(extra: [
            "--journal-directory", journal, "--read-from", "beginning", "--event-selector", "include identifier=nginx",
            "--event-selector", "include unit=backup.service", "--event-selector", "exclude eventName=UnitFailed",
        ])
        let records = try fleet.waitForStored(sourceSuffix: ".linux", count: 3)
        #expect(
            Set(records.map { "\($0.eventSource ?? "-") \($0.eventName ?? "-")" }) == [
                "sshd.linux Login", "nginx.linux LogMessage", "backup.linux LogMessage",
            ])
        let nginx = try #require(records.first { $0.eventSource == "nginx.linux" })
        #expect(nginx.additionalEventData?["message"]?.stringValue == "GET / 200")
        #expect(nginx.requestParameters?["unit"]?.stringValue == "nginx.service")
        #expect(agent.stop() == 0)
        // journald was asked for the selectors' identifier and unit too; the kernel entry stayed out.
        #expect(Self.entriesRead(agent.log) == [4], "\(agent.log)")
        #expect(agent.log.contains("journal.excluded=1"), "\(agent.log)")
    }

    @Test func unitLifecycleSessionsAndBootsFromAFixture() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 3600)
        let firstBoot = "11111111111111111111111111111111"
        let secondBoot = "22222222222222222222222222222222"
        try JournalFixture.write(
            [
                .init(
                    identifier: "systemd", message: "Started nginx.service - A high performance web server and a reverse proxy server.",
                    realtime: start, pid: 1, facility: 3, bootID: firstBoot, extra: ["UNIT": "nginx.service"]),
                .init(
                    identifier: "systemd-logind", message: "New session 3 of user alice.", realtime: start + 1_000_000, pid: 400, bootID: firstBoot),
                .init(identifier: "systemd-logind", message: "Removed session 3.", realtime: start + 2_000_000, pid: 400, bootID: firstBoot),
            ], to: journal, name: "first-boot.journal")
        try JournalFixture.write(
            [
                .init(
                    identifier: "systemd", message: "Failed to start app.service - My App.", realtime: start + 600_000_000, pid: 1, facility: 3,
                    bootID: secondBoot, extra: ["UNIT": "app.service"]),
                .init(
                    identifier: "systemd", message: "Stopped cron.service - Regular background program processing daemon.",
                    realtime: start + 601_000_000, pid: 1, facility: 3, bootID: secondBoot, extra: ["UNIT": "cron.service"]),
            ], to: journal, name: "second-boot.journal")
        try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "beginning"])
        let records = try fleet.waitForStored(sourceSuffix: ".linux", count: 5).sorted { $0.eventTime < $1.eventTime }
        #expect(
            records.map { "\($0.eventSource ?? "-") \($0.eventName ?? "-") \($0.errorCode ?? "-")" } == [
                "systemd.linux StartUnit -", "logind.linux SessionStart -", "logind.linux SessionEnd -", "systemd.linux StartUnit UnitFailed",
                "systemd.linux StopUnit -",
            ])
        #expect(
            records.map { $0.additionalEventData?["origin"]?["bootId"]?.stringValue } == [firstBoot, firstBoot, firstBoot, secondBoot, secondBoot])
        #expect(records[1].userIdentity?.userName == "alice" && records[1].requestParameters?["sessionId"]?.stringValue == "3")
        #expect(records[3].requestParameters?["unit"]?.stringValue == "app.service")
        #expect(records[0].sourceIPAddress == "systemd.linux" && records[0].eventType == "AwsServiceEvent")
    }

    @Test func aLiveJournalReachesTheStoreOnceWhileTheCollectorRestarts() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        let journald = try NamespaceJournald(logDirectory: fleet.directory)
        defer { journald.stop() }
        try fleet.startAgent(extra: ["--journal-directory", journald.directory, "--read-from", "beginning"])
        try fleet.expectLoginsStoredOnceWhileTheCollectorRestarts(port: port) { try journald.log($0, tag: "sshd") }
    }

    @Test func binaryHugeAndEmptyMessagesNeverStopTheReader() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 60)
        let invalidUTF8: [UInt8] = Array("Accepted password for ".utf8) + [0xff, 0xfe, 0x00, 0x01] + Array(" from 10.0.0.9 port 7 ssh2".utf8)
        try JournalFixture.write(
            [
                .init(identifier: "sshd", message: "", realtime: start, binaryMessage: invalidUTF8),
                .init(
                    identifier: "sshd", message: "Failed password for root from 10.0.0.9 port 8 ssh2 " + String(repeating: "x", count: 1 << 20),
                    realtime: start + 1),
                .init(identifier: "sshd", message: "", realtime: start + 2),
                .init(identifier: "sudo", message: "", realtime: start + 3, binaryMessage: Array(repeating: 0, count: 4096)),
                .init(identifier: "sshd", message: "Accepted password for marker from 10.0.0.9 port 9 ssh2", realtime: start + 4),
            ], to: journal, name: "odd.journal")
        let agent = try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "beginning"])
        let marker = try fleet.records(["--user", "marker"], atLeast: 1)
        #expect(marker.count == 1, "agent:\n\(fleet.agentLogs())")
        #expect(agent.stop() == 0)
        #expect(Self.entriesRead(agent.log) == [5], "\(agent.log)")
        // Whatever the odd entries made, each is valid JSON in the store (the lookup decoded them).
        #expect(try fleet.storedRecords(sourceSuffix: ".linux").allSatisfy { !$0.eventID.isEmpty })
    }

    @Test func aJournalWithoutFilesYetIsWaitedForWithoutAFalseGap() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 120)
        func entries(_ names: [String], at offset: UInt64) -> [JournalFixture.Entry] {
            names.enumerated().map {
                .init(identifier: "sshd", message: "Accepted password for \($1) from 10.0.0.1 port 22 ssh2", realtime: start + offset + UInt64($0))
            }
        }
        try JournalFixture.write(entries(["first"], at: 0), to: journal, name: "a.journal")
        let arguments = ["--journal-directory", journal, "--read-from", "beginning"]
        var agent = try fleet.startAgent(extra: arguments)
        #expect(try fleet.waitForStored(sourceSuffix: ".linux", count: 1).count == 1)
        #expect(agent.stop() == 0)
        // As after a reboot before journald has made its files: the directory is empty.
        try FileManager.default.moveItem(atPath: journal + "/a.journal", toPath: fleet.directory.file("a.journal"))
        agent = try fleet.startAgent(extra: arguments)
        // Ready: the reader has opened the empty directory and stands at the saved cursor.
        try fleet.waitForReady()
        try FileManager.default.moveItem(atPath: fleet.directory.file("a.journal"), toPath: journal + "/a.journal")
        try JournalFixture.write(entries(["second"], at: 1_000_000), to: journal, name: "b.journal")
        let stored = try fleet.waitForStored(sourceSuffix: ".linux", count: 2, timeout: 30)
        #expect(Set(stored.compactMap { $0.userIdentity?.userName }) == ["first", "second"])
        #expect(agent.stop() == 0)
        #expect(Self.entriesRead(agent.log) == [1], "\(agent.log)")
        #expect(try fleet.storedRecords(eventName: "JournalGap").isEmpty)
    }

    /// From the end of a journal with nothing the agent reads, a file that then appears whole (as a
    /// rotation leaves it) is read from its first entry, not skipped as if it had been there.
    @Test func fromTheEndOfAJournalWithNothingToReadANewFileIsReadWhole() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 60)
        try JournalFixture.write(
            [.init(identifier: "myapp", message: "not for the trail", realtime: start, facility: 3)], to: journal, name: "a.journal")
        let agent = try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "end"])
        try agent.waitForLog("following the journal")
        // Written elsewhere and moved in, so the reader reopens on a file that is already complete.
        let later = fleet.directory.file("later")
        try JournalFixture.write(
            ["second", "third"].enumerated().map {
                .init(identifier: "sshd", message: "Accepted password for \($1) from 10.0.0.1 port 22 ssh2", realtime: start + 1_000_000 + UInt64($0))
            }, to: later, name: "b.journal")
        try FileManager.default.moveItem(atPath: later + "/b.journal", toPath: journal + "/b.journal")
        let stored = try fleet.waitForStored(sourceSuffix: ".linux", count: 2, timeout: 30)
        #expect(stored.compactMap { $0.userIdentity?.userName }.sorted() == ["second", "third"])
        #expect(agent.stop() == 0)
    }

    @Test func everyEntryIsStoredOnceAcrossAgentCrashes() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let first = 20_000
        let second = 5_000
        let start = JournalFixture.realtime(secondsAgo: 600)
        func entries(_ range: Range<Int>) -> [JournalFixture.Entry] {
            zip(range, Fleet.loginMessages(range)).map { .init(identifier: "sshd", message: $1, realtime: start + UInt64($0) * 10) }
        }
        try JournalFixture.write(entries(0..<first), to: journal, name: "first.journal")
        let arguments = ["--journal-directory", journal, "--read-from", "beginning"]
        var agent = try fleet.startAgent(extra: arguments)
        _ = try fleet.waitForStored(sourceSuffix: ".linux", count: 1)
        agent.crash()  // mid-way through the first file
        // A new file appears while the agent is down, and another while it runs.
        try JournalFixture.write(entries(first..<(first + second)), to: journal, name: "second.journal")
        agent = try fleet.startAgent(extra: arguments)
        try JournalFixture.write(entries((first + second)..<(first + 2 * second)), to: journal, name: "third.journal")
        try fleet.expectLoginsStoredOnce(first + 2 * second, timeout: 120)
        #expect(agent.stop() == 0)
        // Restarted: only an entry written after the last one is read.
        agent = try fleet.startAgent(extra: arguments)
        try JournalFixture.write(
            [
                .init(
                    identifier: "sshd", message: "Accepted password for sentinel from 10.0.0.1 port 22 ssh2",
                    realtime: start + UInt64(first + 2 * second) * 10)
            ], to: journal, name: "sentinel.journal")
        #expect(try fleet.records(["--user", "sentinel"], atLeast: 1).count == 1)
        #expect(agent.stop() == 0)
        #expect(Self.entriesRead(agent.log) == [1], "\(agent.log)")
    }

    @Test func aCursorTheJournalNoLongerHoldsIsRecordedAsAGap() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let start = JournalFixture.realtime(secondsAgo: 300)
        try JournalFixture.write(
            (0..<3).map {
                .init(identifier: "sshd", message: "Accepted password for old\($0) from 10.0.0.1 port \($0) ssh2", realtime: start + UInt64($0))
            },
            to: journal, name: "old.journal")
        let arguments = ["--journal-directory", journal, "--read-from", "beginning"]
        var agent = try fleet.startAgent(extra: arguments)
        #expect(try fleet.waitForStored(sourceSuffix: ".linux", count: 3).count == 3)
        #expect(agent.stop() == 0)
        // Vacuumed while the agent was down: the file holding the saved cursor is gone.
        try FileManager.default.removeItem(atPath: journal + "/old.journal")
        try JournalFixture.write(
            (0..<2).map {
                .init(
                    identifier: "sshd", message: "Accepted password for new\($0) from 10.0.0.1 port \($0) ssh2",
                    realtime: start + 100_000 + UInt64($0))
            },
            to: journal, name: "new.journal")
        agent = try fleet.startAgent(extra: arguments)
        let stored = try fleet.waitForStored(sourceSuffix: ".linux", count: 5)
        #expect(Set(stored.compactMap { $0.userIdentity?.userName }) == ["old0", "old1", "old2", "new0", "new1"])
        let gaps = try fleet.records(["--event-name", "JournalGap"], atLeast: 1)
        #expect(gaps.count == 1)
        #expect(gaps.first?.eventSource == "agent.hosttrail")
        #expect(gaps.first?.requestParameters?["lostCursor"]?.stringValue?.hasPrefix("s=") == true)
        #expect(
            gaps.first?.requestParameters?["lastReadEventTime"]?.stringValue
                == TrailTime.format(Date(timeIntervalSince1970: Double(start + 2) / 1_000_000)))
        #expect(agent.log.contains("no longer holds the saved cursor"))
    }

    /// A journal file cut short while the agent reads it (SIGBUS on libsystemd's mapping): the
    /// agent records `JournalTruncated`, commits nothing read from the lost pages, and goes on
    /// with the journal's other files.
    @Test func aJournalFileTruncatedUnderTheReaderIsRecordedAndReadingGoesOn() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journal = fleet.directory.file("journal")
        let total = 100_000
        let later = 500
        let start = JournalFixture.realtime(secondsAgo: 900)
        func entries(_ range: Range<Int>) -> [JournalFixture.Entry] {
            zip(range, Fleet.loginMessages(range)).map { .init(identifier: "sshd", message: $1, realtime: start + UInt64($0) * 10) }
        }
        try JournalFixture.write(entries(0..<total), to: journal, name: "big.journal")
        let agent = try fleet.startAgent(extra: ["--journal-directory", journal, "--read-from", "beginning"])
        _ = try fleet.waitForStored(sourceSuffix: ".linux", count: 1)
        // Mid-way through the file (it holds 100,000 entries): keep its first MiB only.
        #expect(truncate(journal + "/big.journal", 1 << 20) == 0)
        let truncations = try fleet.records(["--event-name", "JournalTruncated"], atLeast: 1, timeout: 30)
        #expect(truncations.count == 1, "agent:\n\(fleet.agentLogs())")
        #expect(truncations.first?.eventSource == "agent.hosttrail")
        #expect(truncations.first?.errorCode == "JournalTruncated")
        #expect(agent.log.contains("truncated while it was being read"))

        // The agent is still reading: a file written afterwards is stored, all of it.
        try JournalFixture.write(entries(total..<(total + later)), to: journal, name: "after.journal")
        let deadline = Date().addingTimeInterval(60)
        var stored: [CloudTrailRecord] = []
        var ports = Set<Int64>()
        while Date() < deadline {
            stored = try fleet.storedRecords(sourceSuffix: ".linux")
            ports = Set(stored.compactMap(Fleet.loginNumber))
            if ports.isSuperset(of: Int64(total)..<Int64(total + later)) { break }
            usleep(300_000)
        }
        #expect(ports.isSuperset(of: Int64(total)..<Int64(total + later)), "agent:\n\(fleet.agentLogs())")
        // Nothing forged from the zero pages: every record is one of the lines, stored once, and
        // says the user its line named.
        #expect(ports.isSubset(of: 0..<Int64(total + later)))
        #expect(stored.count == ports.count && Set(stored.map(\.eventID)).count == stored.count)
        #expect(
            stored.allSatisfy { record in
                record.requestParameters?["port"]?.integerValue == Fleet.loginNumber(record).map { $0 % 65_536 }
            })
        #expect(stored.count < total + later, "the truncated part cannot have been read")
        #expect(agent.stop() == 0)
    }

    /// A journald of the test's own (`systemd-journald NAMESPACE`), written to through its
    /// `/dev/log` socket like any syslog client, rotated with SIGUSR2 while the agent follows it.
    final class NamespaceJournald {
        let process: TestProcess
        let namespace: String
        let devLog: String
        let directory: String

        init(logDirectory: TemporaryDirectory) throws {
            namespace = "httest\(getpid())x\(UInt32.random(in: 0..<UInt32.max))"
            devLog = "/run/systemd/journal.\(namespace)/dev-log"
            let machineID = try String(contentsOfFile: "/etc/machine-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            directory = "/var/log/journal/\(machineID).\(namespace)"
            process = try TestProcess(
                "/lib/systemd/systemd-journald", [namespace], logPath: logDirectory.file("journald.log"), unblockingSignals: true)
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: devLog) { usleep(50_000) }
            guard FileManager.default.fileExists(atPath: devLog) else {
                throw TestProcess.Failure(description: "journald did not start: \(process.log)")
            }
        }

        func log(_ messages: [String], tag: String, priority: String = "auth.info") throws {
            let result = try Command.run(
                "logger", ["-u", devLog, "-p", priority, "-t", tag, "--id=4242"], stdin: Data((messages.joined(separator: "\n") + "\n").utf8))
            guard result.status == 0 else { throw TestProcess.Failure(description: "logger: \(result)") }
        }

        /// Rotates the journal files (journald starts new ones; the agent sees SD_JOURNAL_INVALIDATE).
        func rotate() { kill(process.pid, SIGUSR2) }

        func stop() {
            _ = process.stop()
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: "/run/systemd/journal.\(namespace)")
        }
    }

    @Test func aLiveJournaldIsFollowedThroughRotationsAndAuthLogIsOnlyWatched() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let journald = try NamespaceJournald(logDirectory: fleet.directory)
        defer { journald.stop() }
        // The auth.log that rsyslog would write from the same messages: watched, not converted.
        let authLog = fleet.directory.file("auth.log")
        try Data("Nov 24 10:00:00 vm sshd[1]: Accepted password for fromthefile from 10.9.9.9 port 1 ssh2\n".utf8).write(
            to: URL(fileURLWithPath: authLog))
        let agent = try fleet.startAgent(extra: [
            "--journal-directory", journald.directory, "--read-from", "beginning", "--tail-file", authLog, "--file-poll-interval-ms", "50",
        ])
        let batches = 4
        let perBatch = 500
        for batch in 0..<batches {
            try journald.log(Fleet.loginMessages((batch * perBatch)..<((batch + 1) * perBatch)), tag: "sshd")
            if batch == 0 { _ = try fleet.waitForStored(sourceSuffix: ".linux", count: 1) }
            journald.rotate()
            usleep(200_000)
        }
        try fleet.expectLoginsStoredOnce(batches * perBatch)
        let stored = try fleet.storedRecords(sourceSuffix: ".linux")
        #expect(stored.allSatisfy { $0.additionalEventData?["origin"]?["transport"]?.stringValue == "syslog" })
        #expect(!stored.contains { $0.userIdentity?.userName == "fromthefile" })
        #expect(agent.stop() == 0)
        #expect(agent.log.contains("files.watchedOnly=1"), "\(agent.log)")
        #expect(agent.log.contains(#"journal.reopened="#) && !agent.log.contains("journal.reopened=0"), "rotations were not seen: \(agent.log)")
    }
}
