// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// A real rsyslog writes auth.log; logrotate rotates it in each mode while lines are written; the
/// agent is killed with SIGKILL along the way. Every line rsyslog wrote must be in the store once.
@Suite(.serialized, .endToEnd)
struct LogFileTests {
    /// An rsyslogd of the test's own: a socket in the test directory, auth.* to `logs/auth.log`.
    final class Rsyslog {
        let process: TestProcess
        let socket: String
        let logFile: String
        let pidFile: String

        init(directory: TemporaryDirectory) throws {
            socket = directory.file("rsyslog.sock")
            try FileManager.default.createDirectory(atPath: directory.file("logs"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory.file("rsyslog-work"), withIntermediateDirectories: true)
            logFile = directory.file("logs/auth.log")
            pidFile = directory.file("rsyslog.pid")
            let configuration = """
                module(load="imuxsock" SysSock.Use="off")
                input(type="imuxsock" Socket="\(socket)" CreatePath="on" RateLimit.Interval="0")
                global(workDirectory="\(directory.file("rsyslog-work"))")
                auth,authpriv.* action(type="omfile" file="\(logFile)")
                """
            try Data(configuration.utf8).write(to: URL(fileURLWithPath: directory.file("rsyslog.conf")))
            process = try TestProcess(
                "/usr/sbin/rsyslogd", ["-n", "-f", directory.file("rsyslog.conf"), "-i", pidFile], logPath: directory.file("rsyslog.log"),
                unblockingSignals: true)
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
            guard FileManager.default.fileExists(atPath: socket) else {
                throw TestProcess.Failure(description: "rsyslogd did not start: \(process.log)")
            }
        }

        /// Logs `messages` as `tag` at auth.info through the socket, one message per line.
        func log(_ messages: [String], tag: String) throws {
            let result = try Command.run(
                "logger", ["-u", socket, "-p", "auth.info", "-t", tag, "--id=4242"], stdin: Data((messages.joined(separator: "\n") + "\n").utf8))
            guard result.status == 0 else { throw TestProcess.Failure(description: "logger: \(result)") }
        }

        /// Rotates the log with logrotate in the given mode; rsyslog reopens on SIGHUP.
        func rotate(_ options: [String], directory: TemporaryDirectory) throws {
            // logrotate skips a rotation whose dated name exists: one rotation a second at most.
            if options.contains("dateext") { Thread.sleep(forTimeInterval: 1.05) }
            let configuration = """
                \(logFile) {
                    rotate 20
                    missingok
                \(options.map { "    " + $0 }.joined(separator: "\n"))
                    postrotate
                        kill -HUP \(process.pid)
                    endscript
                }
                """
            let path = directory.file("logrotate.conf")
            try Data(configuration.utf8).write(to: URL(fileURLWithPath: path))
            let result = try Command.run("logrotate", ["-f", "-s", directory.file("logrotate.state"), path])
            guard result.status == 0 else { throw TestProcess.Failure(description: "logrotate: \(result)") }
        }

        /// Every line of the log and its rotations (decompressed).
        func allLines(directory: TemporaryDirectory) throws -> [String] {
            var lines: [String] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.file("logs")) {
                let path = directory.file("logs/\(name)")
                let text = name.hasSuffix(".gz") ? try Command.run("gzip", ["-dc", path]).stdout : try String(contentsOfFile: path, encoding: .utf8)
                lines += text.split(separator: "\n").map(String.init)
            }
            return lines
        }
    }

    /// A collector, an rsyslog of the test's own, and an agent following its auth.log from the
    /// start (started with the arguments returned, to start it again the same way).
    static func followedRsyslog() throws -> (Fleet, Rsyslog, [String]) {
        let fleet = try Fleet()
        try fleet.startCollector()
        let rsyslog = try Rsyslog(directory: fleet.directory)
        let arguments = ["--tail-file", rsyslog.logFile, "--read-from", "beginning", "--file-poll-interval-ms", "50", "--log-level", "debug"]
        do {
            try fleet.startAgent(extra: arguments)
        } catch {
            _ = rsyslog.process.stop()
            throw error
        }
        return (fleet, rsyslog, arguments)
    }

    /// logrotate's modes, each used consistently for a whole run as a real host does.
    static let rotationModes: [[String]] = [
        ["create 0640 root root", "compress", "delaycompress"],  // Debian's rsyslog default
        ["copytruncate"],
        ["create 0640 root root", "compress"],  // compressed at once
        // RHEL's and Fedora's default names rotations by date; seconds keep this test's names apart.
        ["create 0600 root root", "dateext", "dateformat -%Y%m%d-%s", "compress", "delaycompress"],
    ]

    @Test(arguments: rotationModes)
    func everyLineReachesTheStoreOnceThroughRotationsAndCrashes(mode: [String]) throws {
        let (fleet, rsyslog, agentArguments) = try Self.followedRsyslog()
        defer { _ = rsyslog.process.stop() }
        var agent = try #require(fleet.agents["web-01"])
        let batches = 6
        let perBatch = 1000
        func waitForStored(_ count: Int, timeout: TimeInterval) throws -> [CloudTrailRecord] {
            let deadline = Date().addingTimeInterval(timeout)
            var stored: [CloudTrailRecord] = []
            while Date() < deadline {
                stored = try fleet.storedRecords(eventName: "Login")
                if stored.count >= count { break }
                usleep(200_000)
            }
            return stored
        }
        for batch in 0..<batches {
            let numbers = (batch * perBatch)..<((batch + 1) * perBatch)
            try rsyslog.log(Fleet.loginMessages(numbers), tag: "sshd")
            switch batch {
            case 0: _ = try waitForStored(1, timeout: 30)  // the agent has a place in the file before the faults
            case 1, 4: try rsyslog.rotate(mode, directory: fleet.directory)  // while followed
            case 2:
                agent.crash()
                agent = try fleet.startAgent(extra: agentArguments)
            case 3:
                // Rotated while the agent is down: it resumes in the rotated file (plain or compressed).
                agent.crash()
                try rsyslog.rotate(mode, directory: fleet.directory)
                agent = try fleet.startAgent(extra: agentArguments)
            default: break
            }
            usleep(100_000)  // about 10k lines a second
        }
        let total = batches * perBatch
        let stored = try waitForStored(total, timeout: 120)
        let ports = stored.compactMap { $0.requestParameters?["port"]?.integerValue }
        let missing = Set(0..<Int64(total)).subtracting(ports).sorted()
        let onDisk = try rsyslog.allLines(directory: fleet.directory).filter { $0.contains("Accepted password for user") }.count
        #expect(
            missing.count == 0,
            "\(missing.count) of \(total) lines missing, from \(missing.first ?? -1) to \(missing.last ?? -1) (\(onDisk) on disk); agents:\n\(fleet.agentLogs())"
        )
        #expect(stored.count == total, "stored \(stored.count) Login records for \(total) lines")
        #expect(Set(stored.map(\.eventID)).count == stored.count)
        let sample = try #require(stored.first { $0.requestParameters?["port"]?.integerValue == 1234 })
        #expect(sample.eventSource == "sshd.linux")
        #expect(sample.userIdentity?.userName == "user1234")
        #expect(sample.sourceIPAddress == "10.0.0.1")
        #expect(sample.additionalEventData?["process"]?["pid"]?.integerValue == 4242)
        // logrotate really rotated three times (a refused rotation would leave nothing to test).
        let rotations = try FileManager.default.contentsOfDirectory(atPath: fleet.directory.file("logs")).filter { $0 != "auth.log" }
        #expect(rotations.count == 3, "\(rotations)")
        // Rotations are not alarms.
        #expect(try fleet.storedRecords(eventName: "LogTruncated").isEmpty)
        #expect(try fleet.storedRecords(eventName: "LogRemoved").isEmpty)
    }

    /// An operator switches auth.log from numbered to `dateext` rotations and back; the old
    /// rotations stay beside the new ones for weeks. Followed across each switch and killed
    /// across them, the agent stores every line the files hold exactly once: it orders rotations
    /// by age, not name.
    @Test func switchingBetweenNumberedAndDatedRotationsLosesAndRepeatsNothing() throws {
        let (fleet, rsyslog, agentArguments) = try Self.followedRsyslog()
        defer { _ = rsyslog.process.stop() }
        var agent = try #require(fleet.agents["web-01"])
        let numbered = ["create 0640 root root", "compress", "delaycompress"]
        let dated = ["create 0640 root root", "dateext", "dateformat -%Y%m%d-%s", "compress", "delaycompress"]
        let plan: [(mode: [String], whileDown: Bool)] = [
            (numbered, false), (numbered, false),  // the numbered rotations of before: .1 and .2.gz
            (dated, false),  // switched while followed
            (dated, true),  // again while the agent is down
            (numbered, true),  // back to numbers while down
            (numbered, false),  // and while followed
        ]
        let perBatch = 1000
        for (batch, step) in plan.enumerated() {
            try rsyslog.log(Fleet.loginMessages((batch * perBatch)..<((batch + 1) * perBatch)), tag: "sshd")
            if batch == 0 { _ = try fleet.waitForStored(sourceSuffix: ".linux", count: 1) }
            if step.whileDown {
                agent.crash()
                try rsyslog.rotate(step.mode, directory: fleet.directory)
                agent = try fleet.startAgent(extra: agentArguments)
            } else {
                try rsyslog.rotate(step.mode, directory: fleet.directory)
            }
            usleep(100_000)
        }
        let total = (plan.count + 1) * perBatch
        try rsyslog.log(Fleet.loginMessages((plan.count * perBatch)..<total), tag: "sshd")
        // Scored against what the files hold, line by line.
        let onDisk = try rsyslog.allLines(directory: fleet.directory).compactMap { line -> Int64? in
            guard let range = line.range(of: " port ") else { return nil }
            return Int64(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(onDisk.count == total && Set(onDisk).count == total, "the files hold \(onDisk.count) lines")
        let stored = try fleet.waitForStored(sourceSuffix: ".linux", count: total, timeout: 120)
        // One more line, stored: the agent has read everything before it, any line twice included.
        try rsyslog.log(Fleet.loginMessages(total..<(total + 1)), tag: "sshd")
        _ = try fleet.waitForStored(sourceSuffix: ".linux", count: total + 1)
        let again = try fleet.storedRecords(sourceSuffix: ".linux").filter { Fleet.loginNumber($0) != Int64(total) }
        var counts: [Int64: Int] = [:]
        for record in again { counts[record.requestParameters?["port"]?.integerValue ?? -1, default: 0] += 1 }
        let lost = Set(onDisk).filter { counts[$0] == nil }.sorted()
        let twice = counts.filter { $0.value > 1 }.keys.sorted()
        #expect(lost.isEmpty, "\(lost.count) lines lost, from \(lost.first ?? -1) to \(lost.last ?? -1); agents:\n\(fleet.agentLogs())")
        #expect(twice.isEmpty && again.count == total, "\(twice.count) lines stored twice (\(again.count) records, \(stored.count) first)")
        let names = try FileManager.default.contentsOfDirectory(atPath: fleet.directory.file("logs"))
        #expect(names.contains { $0.contains("auth.log-") } && names.contains { $0.hasPrefix("auth.log.2") }, "\(names)")
        // A record read from a rotation names it.
        #expect(again.contains { ($0.additionalEventData?["origin"]?["path"]?.stringValue ?? "").contains("auth.log-") })
        #expect(try fleet.storedRecords(eventName: "LogGap").isEmpty)
        #expect(try fleet.storedRecords(eventName: "LogTruncated").isEmpty)
    }

    @Test func everyLineReachesTheStoreOnceWhileTheCollectorRestarts() throws {
        let fleet = try Fleet()
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        let rsyslog = try Rsyslog(directory: fleet.directory)
        defer { _ = rsyslog.process.stop() }
        try fleet.startAgent(extra: ["--tail-file", rsyslog.logFile, "--read-from", "beginning", "--file-poll-interval-ms", "50"])
        try fleet.expectLoginsStoredOnceWhileTheCollectorRestarts(port: port) { try rsyslog.log($0, tag: "sshd") }
    }

    @Test func theBootCutoffAppliesToAFirstStartOnly() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let log = fleet.directory.file("auth.log")
        func line(_ user: String) -> String {
            // Dated before this boot, as lines logged just before a reboot are once the host is up again.
            "2001-02-03T04:05:06.000000+00:00 vm sshd[7]: Accepted password for \(user) from 10.0.0.7 port 22 ssh2\n"
        }
        try Data(
            (line("before-first-start") + "2099-01-01T00:00:00.000000+00:00 vm sshd[7]: Accepted password for marker from 10.0.0.7 port 22 ssh2\n")
                .utf8
        )
        .write(to: URL(fileURLWithPath: log))
        let arguments = ["--tail-file", log, "--read-from", "boot", "--file-poll-interval-ms", "50"]
        var agent = try fleet.startAgent(extra: arguments)
        #expect(try fleet.records(["--event-name", "Login"], atLeast: 1).map { $0.userIdentity?.userName } == ["marker"])
        #expect(agent.stop() == 0)
        let handle = try #require(FileHandle(forWritingAtPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line("after-checkpoint").utf8))
        try handle.close()
        agent = try fleet.startAgent(extra: arguments)
        let users = Set(try fleet.records(["--event-name", "Login"], atLeast: 2).compactMap { $0.userIdentity?.userName })
        #expect(users == ["marker", "after-checkpoint"])
    }

    /// A line of nearly 1 MiB of control bytes (each six once escaped, in the message and in
    /// sudo's command) used to become a frame larger than the spool reads back: the record was
    /// lost as corruption. Now it is stored, cut, and the spool stays whole.
    @Test func aHugeBinaryLineIsStoredCutAndTheSpoolStaysWhole() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let log = fleet.directory.file("auth.log")
        let prefix = "2026-11-24T16:30:00.000000+00:00 vm sudo:    alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND="
        let huge = prefix + "/bin/echo " + String(repeating: "\u{01}", count: 900_000) + "\n"
        try Data((huge + prefix + "/bin/true\n").utf8).write(to: URL(fileURLWithPath: log))
        var agent = try fleet.startAgent(extra: ["--tail-file", log, "--read-from", "beginning", "--file-poll-interval-ms", "50"])
        let runs = try fleet.records(["--event-name", "RunCommand"], atLeast: 2)
        #expect(runs.count == 2, "\(fleet.agentLogs())")
        let cut = try #require(runs.first { $0.additionalEventData?["truncated"] == .bool(true) })
        #expect(cut.requestParameters?["command"]?.stringValue?.hasPrefix("/bin/echo \u{01}") == true)
        #expect(runs.contains { $0.requestParameters?["command"]?.stringValue == "/bin/true" && $0.additionalEventData?["truncated"] == nil })
        #expect(agent.stop() == 0)
        let logs = fleet.agentLogs()
        #expect(!logs.contains("damaged") && logs.contains("spool.dropped.corrupt=0"), "\(logs)")
        let verify = try Command.run(TestBinaries.agent, ["spool", "verify", "--spool-dir", fleet.spoolPath("web-01")])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        agent = try fleet.startAgent(extra: ["--tail-file", log, "--read-from", "beginning", "--file-poll-interval-ms", "50"])
        #expect(agent.stop() == 0)
    }

    @Test func wipingTheLogIsRecorded() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let rsyslog = try Rsyslog(directory: fleet.directory)
        defer { _ = rsyslog.process.stop() }
        try fleet.startAgent(extra: ["--tail-file", rsyslog.logFile, "--read-from", "beginning", "--file-poll-interval-ms", "50"])
        try rsyslog.log(["Accepted password for alice from 10.0.0.2 port 1 ssh2"], tag: "sshd")
        #expect(try fleet.records(["--event-name", "Login"], atLeast: 1).count == 1)
        // What an intruder does: empty the file in place, then go on.
        try FileHandle(forWritingAtPath: rsyslog.logFile)!.truncate(atOffset: 0)
        try rsyslog.log(["Accepted password for mallory from 10.0.0.3 port 2 ssh2"], tag: "sshd")
        let truncated = try fleet.records(["--event-name", "LogTruncated"], atLeast: 1)
        #expect(truncated.count == 1)
        #expect(truncated.first?.requestParameters?["path"]?.stringValue == rsyslog.logFile)
        #expect(truncated.first?.eventSource == "agent.hosttrail")
        #expect(try fleet.records(["--event-name", "Login"], atLeast: 2).count == 2)
    }

    @Test func anAptStanzaCutByARestartIsReadWhole() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let log = fleet.directory.file("history.log")
        let now = Date()
        func date(_ offset: TimeInterval) -> String {
            // apt writes local time; the tests run with the machine's zone.
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd  HH:mm:ss"
            return formatter.string(from: now.addingTimeInterval(offset))
        }
        let first =
            "Start-Date: \(date(-60))\nCommandline: apt-get install -y nginx\nRequested-By: alice (1000)\n"
            + "Install: nginx:amd64 (1.22.1-9)\nEnd-Date: \(date(-55))\n\n"
        // The second stanza is half written when the agent stops: apt is still running.
        let secondHead = "Start-Date: \(date(-10))\nCommandline: apt remove telnet\nRequested-By: bob (1001)\n"
        try Data((first + secondHead).utf8).write(to: URL(fileURLWithPath: log))
        let arguments = ["--tail-file", log, "--read-from", "beginning", "--file-poll-interval-ms", "50"]
        var agent = try fleet.startAgent(extra: arguments)
        let installed = try fleet.records(["--event-name", "InstallPackages"], atLeast: 1)
        #expect(installed.first?.userIdentity?.userName == "alice")
        #expect(installed.first?.eventSource == "apt.linux")
        usleep(300_000)  // the half stanza has been read too
        #expect(agent.stop() == 0)
        let handle = try #require(FileHandle(forWritingAtPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("Remove: telnet:amd64 (0.17+2.4-2)\nEnd-Date: \(date(-5))\n\n".utf8))
        try handle.close()
        agent = try fleet.startAgent(extra: arguments)
        let removed = try fleet.records(["--event-name", "RemovePackages"], atLeast: 1)
        #expect(removed.count == 1)
        #expect(removed.first?.userIdentity?.userName == "bob")
        #expect(removed.first?.requestParameters?["commandLine"]?.stringValue == "apt remove telnet")
        #expect(try fleet.storedRecords(sourceSuffix: "apt.linux").count == 2)
    }
}
