// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension HostJournalSuites {
    /// Real activity on this host, as an intruder or an administrator would cause it: SSH logins to a
    /// real sshd, sudo allowed and denied, useradd and userdel. The host's journald (owning /dev/log)
    /// forwards to rsyslog, which writes /var/log/auth.log, as on Debian: the agent reads the journal
    /// and only watches auth.log, so each activity is recorded once.
    @Suite(.serialized, .endToEnd)
    struct HostActivityTests {
        /// A test account with a password and a sudo rule; removed by ``delete()``.
        struct Account {
            let name = "ht\(String(UInt32.random(in: 0..<UInt32.max), radix: 16))"
            let password = "Correct-Horse-\(UInt16.random(in: 0..<UInt16.max))"
            var sudoers: String { "/etc/sudoers.d/hosttrail-test-\(name)" }

            /// - Parameter sudoCommands: What the account may run as root without a password.
            func create(sudoCommands: [String] = ["/usr/bin/id"]) throws {
                try Self.check(Command.run("useradd", ["-m", "-s", "/bin/sh", name]))
                try Self.check(Command.run("chpasswd", [], stdin: Data("\(name):\(password)\n".utf8)))
                try Data("\(name) ALL=(root) NOPASSWD: \(sudoCommands.joined(separator: ", "))\n".utf8).write(to: URL(fileURLWithPath: sudoers))
                chmod(sudoers, 0o440)
                try Self.check(Command.run("visudo", ["-cf", sudoers]))
            }

            func delete() throws {
                try? FileManager.default.removeItem(atPath: sudoers)
                try Self.check(Command.run("userdel", ["-r", name]))
            }

            /// For a `defer`: removes the account unless the test already did.
            func deleteIfPresent() {
                if getpwnam(name) != nil { try? delete() }
            }

            static func check(_ result: Command.Result) throws {
                guard result.status == 0 else { throw TestProcess.Failure(description: "\(result)") }
            }
        }

        /// An sshd of the test's own on a free loopback port, logging through syslog(3) like a real one.
        static func startSSHD(directory: TemporaryDirectory) throws -> (process: TestProcess, port: Int) {
            let port = try FreePort.find()
            let process = try TestProcess(
                "/usr/sbin/sshd",
                ["-D", "-p", "\(port)", "-o", "ListenAddress=127.0.0.1", "-o", "PasswordAuthentication=yes", "-o", "PidFile=none"],
                logPath: directory.file("sshd.log"), closesInheritedFiles: true)
            let sshdPid = try process.supervisedPid()
            // sshd exits when the port is taken: the listener must be this process.
            for _ in 0..<100 {
                let listeners = try Command.run("ss", ["-ltnpH", "sport = :\(port)"]).stdout
                if listeners.contains("pid=\(sshdPid),") { return (process, port) }
                usleep(50_000)
            }
            throw TestProcess.Failure(description: "sshd did not listen on \(port): \(process.log)")
        }

        /// `ssh user@127.0.0.1 -p port true` with `password`, through sshpass; the exit status.
        static func ssh(_ user: String, password: String, port: Int) throws -> Int32 {
            try Command.run(
                "sshpass",
                [
                    "-p", password, "ssh", "-p", "\(port)", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "LogLevel=ERROR", "\(user)@127.0.0.1", "true",
                ], timeout: 30, unblockingSignals: true
            ).status
        }

        @Test func sshSudoAndAccountChangesAreRecordedOnceFromTheJournal() throws {
            // journald and rsyslog are host services; the script starts them where no init system did.
            try Account.check(Command.run("bash", [TestBinaries.packageRoot() + "/scripts/host-services.sh"], startsDaemons: true))
            let fleet = try Fleet()
            try fleet.startCollector()
            let agent = try fleet.startAgent(extra: [
                "--journal", "--read-from", "end", "--tail-file", "/var/log/auth.log", "--file-poll-interval-ms", "50",
            ])
            try agent.waitForLog("following the journal")

            let account = Account()
            try account.create()
            defer { account.deleteIfPresent() }
            let (sshd, port) = try Self.startSSHD(directory: fleet.directory)
            defer { _ = sshd.stop() }
            #expect(try Self.ssh(account.name, password: "wrong", port: port) != 0)
            #expect(try Self.ssh("nobody-\(account.name)", password: "wrong", port: port) != 0)
            #expect(try Self.ssh(account.name, password: account.password, port: port) == 0)
            #expect(try Command.run("runuser", ["-u", account.name, "--", "sudo", "-n", "/usr/bin/id"]).status == 0)
            // Refused after the user's correct password: sudo logs only denials it authenticated.
            #expect(
                try Command.run(
                    "runuser", ["-u", account.name, "--", "sudo", "-S", "-k", "/bin/ls", "/root"], stdin: Data("\(account.password)\n".utf8)
                )
                .status != 0)
            _ = sshd.stop()
            // sudo exits right after logging the denial, before journald reads the sender whole; the
            // agent then believes the refusal of the sender's own account by resolving its uid, which
            // it can only while the account exists: the account goes once the denial is stored.
            let readDeadline = Date().addingTimeInterval(30)
            while try !fleet.storedRecords(sourceSuffix: ".linux").contains(where: { $0.errorCode == "CommandNotAllowed" }), Date() < readDeadline {
                usleep(100_000)
            }
            try account.delete()

            func mine(_ record: CloudTrailRecord) -> Bool {
                record.userIdentity?.userName == account.name || record.userIdentity?.sessionContext?.sessionIssuer?.userName == account.name
                    || record.requestParameters?["userName"]?.stringValue == account.name
            }
            func one(_ description: String, _ records: [CloudTrailRecord], where predicate: (CloudTrailRecord) -> Bool) -> CloudTrailRecord? {
                let matching = records.filter(predicate)
                #expect(
                    matching.count == 1,
                    "\(description): \(matching.count) records; all of the account's: \(records.filter(mine).map { "\($0.eventName ?? "-")/\($0.errorCode ?? "-")" })"
                )
                return matching.first
            }
            var records: [CloudTrailRecord] = []
            let deadline = Date().addingTimeInterval(30)
            repeat {
                records = try fleet.storedRecords(sourceSuffix: ".linux")
                if records.contains(where: { $0.eventName == "DeleteUser" && mine($0) }) { break }
                usleep(250_000)
            } while Date() < deadline

            _ = one("useradd", records) { $0.eventSource == "accounts.linux" && $0.eventName == "CreateUser" && mine($0) }
            let failed = one("failed ssh login", records) { $0.eventName == "Login" && $0.errorCode == "AuthFailure" && mine($0) }
            #expect(failed?.sourceIPAddress == "127.0.0.1")
            let accepted = one("ssh login", records) { $0.eventSource == "sshd.linux" && $0.eventName == "Login" && $0.errorCode == nil && mine($0) }
            #expect(accepted?.requestParameters?["authMethod"]?.stringValue == "password")
            // The account that does not exist is hidden, as CloudTrail does.
            #expect(
                records.contains {
                    $0.eventName == "Login" && $0.errorCode == "InvalidUser" && $0.userIdentity?.userName == HostActivity.hiddenUserName
                })
            #expect(!records.contains { $0.userIdentity?.userName == "nobody-\(account.name)" })
            let sudo = one("sudo", records) { $0.eventSource == "sudo.linux" && $0.eventName == "RunCommand" && $0.errorCode == nil && mine($0) }
            #expect(sudo?.userIdentity?.userName == "root")
            #expect(sudo?.requestParameters?["command"]?.stringValue == "/usr/bin/id")
            let denied = one("sudo denied", records) { $0.eventSource == "sudo.linux" && $0.errorCode == "CommandNotAllowed" && mine($0) }
            #expect(denied?.requestParameters?["command"]?.stringValue == "/bin/ls /root")
            _ = one("userdel", records) { $0.eventName == "DeleteUser" && mine($0) }
            #expect(records.filter(mine).allSatisfy { $0.additionalEventData?["origin"]?["source"]?.stringValue == "journal" })

            // rsyslog wrote the same lines to auth.log; the agent saw them there and did not convert them.
            let authLog = try String(contentsOfFile: "/var/log/auth.log", encoding: .utf8)
            #expect(authLog.contains("Failed password for \(account.name) from 127.0.0.1"))
            #expect(agent.stop() == 0)
            let watched = agent.log.range(of: "files.watchedOnly=").flatMap { Int(agent.log[$0.upperBound...].prefix { $0.isNumber }) }
            #expect((watched ?? 0) > 0, "\(agent.log)")
        }

        /// `ssh` that offers no way in (no key, no password) and leaves: sshd logs only the disconnect.
        static func sshWithoutTrying(_ user: String, port: Int) throws -> Int32 {
            try Command.run(
                "ssh",
                [
                    "-p", "\(port)", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                    "-o", "PreferredAuthentications=publickey", "-o", "IdentitiesOnly=yes", "-o", "IdentityFile=/nonexistent", "-o", "LogLevel=ERROR",
                    "\(user)@127.0.0.1", "true",
                ], timeout: 30, unblockingSignals: true
            ).status
        }

        /// The records of the host's own activity stored since `since`, once `done` says the last one
        /// expected is there (then every earlier line was read: the journal is read in order).
        static func activity(in fleet: Fleet, since: Date, until done: ([CloudTrailRecord]) -> Bool) throws -> [CloudTrailRecord] {
            let from = TrailTime.format(since.addingTimeInterval(-1))
            var records: [CloudTrailRecord] = []
            let deadline = Date().addingTimeInterval(30)
            repeat {
                records = try fleet.storedRecords(sourceSuffix: ".linux").filter { $0.eventTime >= from }
                if done(records) { break }
                usleep(250_000)
            } while Date() < deadline
            return records
        }

        /// The host's journald and rsyslog, a collector, and an agent reading the journal from now on,
        /// ready: everything logged after this is read.
        static func fleetReadingTheJournal() throws -> Fleet {
            try Account.check(Command.run("bash", [TestBinaries.packageRoot() + "/scripts/host-services.sh"], startsDaemons: true))
            let fleet = try Fleet()
            try fleet.startCollector()
            try fleet.startAgent(extra: ["--journal", "--read-from", "end"])
            try fleet.waitForReady()
            return fleet
        }

        /// A client chooses the account name sshd logs word for word: names that read as sshd's own
        /// ending (` from ADDR port N`, `ADDR port N [preauth]`, `… ssh2`) must not choose the address.
        /// And each attempt — a wrong password, an unknown account, a success, a client that leaves
        /// without trying — is one `Login` record; a login's sessions carry its address and point to it.
        @Test func everySSHAttemptIsOneLoginRecordAtTheAddressThatConnected() throws {
            let fleet = try Self.fleetReadingTheJournal()
            let account = Account()
            try account.create()
            defer { account.deleteIfPresent() }
            let (sshd, port) = try Self.startSSHD(directory: fleet.directory)
            defer { _ = sshd.stop() }
            let started = Date()
            let crafted = [
                "zz from 127.71.232.66 port 1", "x 10.9.9.9 port 2 [preauth]", "y from 10.9.9.7 port 4 ssh2: RSA SHA256:x", "nobody-\(account.name)",
            ]
            for name in crafted { #expect(try Self.ssh(name, password: "wrong", port: port) != 0) }
            #expect(try Self.ssh(account.name, password: "wrong", port: port) != 0)
            #expect(try Self.ssh(account.name, password: account.password, port: port) == 0)
            #expect(try Self.sshWithoutTrying(account.name, port: port) != 0)
            // sshd's per-connection processes log the end of a session and a client's leaving after
            // the client has gone: wait for those records before stopping sshd, which ends them.
            _ = try Self.activity(in: fleet, since: started) { records in
                records.contains { $0.eventName == "SessionEnd" } && records.contains { $0.errorCode == "AuthenticationAbandoned" }
            }
            _ = sshd.stop()
            try account.delete()  // the last record: read after every sshd line

            let records = try Self.activity(in: fleet, since: started) { $0.contains { $0.eventName == "DeleteUser" } }
            let ssh = records.filter { $0.eventSource == "sshd.linux" }
            #expect(!ssh.isEmpty)
            for record in ssh {
                #expect(
                    record.sourceIPAddress == "127.0.0.1", "\(record.eventName ?? "-"): \(record.additionalEventData?["message"]?.stringValue ?? "")")
                #expect(![1, 2, 4].contains(record.requestParameters?["port"]?.integerValue ?? -1))
            }
            let logins = ssh.filter { $0.eventName == "Login" }
            let summary = ssh.map { "\($0.eventName ?? "-")/\($0.errorCode ?? "-") port \($0.requestParameters?["port"]?.integerValue ?? -1)" }
            #expect(logins.count == 7, "\(summary)")
            #expect(
                Set(logins.compactMap { $0.requestParameters?["port"]?.integerValue }).count == logins.count, "one record per connection: \(summary)")
            #expect(Set(ssh.map(\.eventName)) == ["Login", "SessionStart", "SessionEnd"], "\(summary)")
            #expect(logins.allSatisfy { $0.responseElements?["ConsoleLogin"]?.stringValue == ($0.errorCode == nil ? "Success" : "Failure") })
            let invalid = logins.filter { $0.errorCode == "InvalidUser" }
            #expect(invalid.count == crafted.count)
            for record in invalid {
                #expect(record.userIdentity?.userName == HostActivity.hiddenUserName)
                // Only the name is hidden: the rest of sshd's line, with the real address, stays.
                let message = record.additionalEventData?["message"]?.stringValue ?? ""
                #expect(message.hasPrefix("Failed password for invalid user \(HostActivity.hiddenUserName) from 127.0.0.1 port "), "\(message)")
            }
            #expect(logins.filter { $0.errorCode == "AuthFailure" && $0.userIdentity?.userName == account.name }.count == 1)
            #expect(logins.filter { $0.errorCode == "AuthenticationAbandoned" && $0.userIdentity?.userName == account.name }.count == 1)
            let success = try #require(logins.first { $0.errorCode == nil })
            #expect(success.userIdentity?.userName == account.name)
            let sessions = ssh.filter { $0.eventName?.hasPrefix("Session") == true }
            #expect(sessions.count == 2)
            for session in sessions {
                #expect(session.requestParameters?["loginEventId"]?.stringValue == success.eventID)
                #expect(session.requestParameters?["port"] == success.requestParameters?["port"])
            }
        }

        /// Whoever acted is named whenever the line or the process says: sudo's PAM session `by
        /// (uid=N)`, chpasswd (root) and passwd (its process's account). An account that logs as sshd
        /// is recorded as what it is, and no sshd record takes its address.
        @Test func actorsAreNamedAndForgedEntriesAreNotTakenForThePrograms() throws {
            let fleet = try Self.fleetReadingTheJournal()
            let started = Date()
            let account = Account()
            try account.create()
            defer { account.deleteIfPresent() }
            let uid = try #require(Int(try Command.run("id", ["-u", account.name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(try Command.run("runuser", ["-u", account.name, "--", "sudo", "-n", "/usr/bin/id"]).status == 0)
            #expect(try Command.run("passwd", [account.name], stdin: Data("\(account.password)x\n\(account.password)x\n".utf8)).status == 0)
            let forgedLine = "Failed password for root from 10.9.9.6 port 6 ssh2"
            #expect(try Command.run("runuser", ["-u", account.name, "--", "logger", "-p", "auth.info", "-t", "sshd", forgedLine]).status == 0)
            #expect(
                try Command.run(
                    "runuser",
                    [
                        "-u", account.name, "--", "logger", "-p", "auth.info", "-t", "backup",
                        "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)",
                    ]
                ).status == 0)
            // In a user namespace of its own the account has every capability, but is still no sshd.
            let namespacedLine = "Accepted password for root from 10.9.9.6 port 7 ssh2"
            #expect(
                try Command.run("runuser", ["-u", account.name, "--", "unshare", "-Ur", "logger", "-p", "auth.info", "-t", "sshd", namespacedLine])
                    .status
                    == 0)
            // Names come from the account database when the entry is read: the account must still exist.
            _ = try Self.activity(in: fleet, since: started) { $0.contains { $0.eventSource == "sudo.linux" && $0.eventName == "SessionStart" } }
            _ = try fleet.waitForStored(sourceSuffix: "agent.hosttrail", count: 4)  // AgentStarted and the three forgeries
            try account.delete()

            let records = try Self.activity(in: fleet, since: started) { $0.contains { $0.eventName == "DeleteUser" } }
            let session = records.first { $0.eventSource == "sudo.linux" && $0.eventName == "SessionStart" }
            #expect(session?.userIdentity?.sessionContext?.sessionIssuer?.principalId == String(uid), "\(records.map(\.eventName))")
            #expect(session?.userIdentity?.sessionContext?.sessionIssuer?.userName == account.name)
            let changes = records.filter { $0.eventName == "ChangePassword" && $0.requestParameters?["userName"]?.stringValue == account.name }
            #expect(changes.map { $0.requestParameters?["tool"]?.stringValue ?? "-" }.sorted() == ["chpasswd", "passwd"])
            #expect(
                changes.allSatisfy { $0.userIdentity?.userName == "root" && $0.userIdentity?.principalId == "0" }, "\(changes.map(\.userIdentity))")
            #expect(!records.contains { $0.sourceIPAddress == "10.9.9.6" || ($0.eventSource == "sshd.linux" && $0.userIdentity?.userName == "root") })
            let forged = try fleet.storedRecords(eventName: "UnverifiedLogEntry")
            #expect(forged.count == 3)
            #expect(forged.allSatisfy { $0.userIdentity?.principalId == String(uid) && $0.errorCode == "UnverifiedSender" })
            #expect(forged.contains { $0.additionalEventData?["message"]?.stringValue == forgedLine })
            #expect(forged.contains { $0.additionalEventData?["message"]?.stringValue == namespacedLine })
        }

        /// `READY=1` and `GET /v1/health` come once the journal reader and the tailed files stand at
        /// their `--read-from` place: a script that acts the moment the agent is ready loses nothing.
        @Test func whatHappensTheMomentTheAgentIsReadyIsRead() throws {
            try Account.check(Command.run("bash", [TestBinaries.packageRoot() + "/scripts/host-services.sh"], startsDaemons: true))
            let fleet = try Fleet()
            try fleet.startCollector()
            let file = fleet.directory.file("app-auth.log")
            let marker = "ready-\(UInt32.random(in: 0..<UInt32.max))"
            let started = Date()
            for round in 0..<3 {
                let agent = try fleet.startAgent(
                    extra: ["--journal", "--read-from", "end", "--tail-file", file, "--file-poll-interval-ms", "50"], waitForSocket: false)
                let sources = try fleet.waitForReady()
                #expect(sources?["journal"]?.stringValue == "ready" && sources?["socket"]?.stringValue == "ready")
                #expect(sources?["file:\(file)"]?.stringValue == "ready", "\(String(describing: sources))")
                // The moment it is ready: an sshd line into the journal and one into the file.
                #expect(
                    try Command.run(
                        "logger",
                        ["-p", "auth.info", "-t", "sshd", "Accepted password for \(marker)-j\(round) from 10.0.0.1 port \(100 + round) ssh2"]
                    ).status == 0)
                let handle = try #require(
                    FileHandle(forWritingAtPath: file)
                        ?? {
                            _ = FileManager.default.createFile(atPath: file, contents: nil)
                            return FileHandle(forWritingAtPath: file)
                        }())
                try handle.seekToEnd()
                let line =
                    "\(TrailTime.format(Date())) vm sshd[7]: Accepted password for \(marker)-f\(round) from 10.0.0.2 port \(200 + round) ssh2\n"
                try handle.write(contentsOf: Data(line.utf8))
                try handle.close()
                let wanted = Set(["\(marker)-j\(round)", "\(marker)-f\(round)"])
                // Other suites log to the same journal meanwhile: wait for these two, not for a count.
                let stored = try Self.activity(in: fleet, since: started) { records in
                    wanted.isSubset(of: Set(records.compactMap { $0.userIdentity?.userName }))
                }.compactMap { $0.userIdentity?.userName }
                #expect(wanted.isSubset(of: Set(stored)), "round \(round): \(stored); \(fleet.agentLogs())")
                #expect(agent.stop() == 0)
            }
        }

        /// A package of the test's own, named uniquely so no package of the host is ever touched.
        static func buildPackage(directory: TemporaryDirectory) throws -> (name: String, path: String) {
            let name = "hosttrail-test-\(String(UInt32.random(in: 0..<UInt32.max), radix: 16))"
            let root = directory.file("package")
            try FileManager.default.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
            let control =
                "Package: \(name)\nVersion: 1.0\nArchitecture: all\nMaintainer: HostTrail tests <tests@hosttrail.invalid>\nDescription: test package\n"
            try Data(control.utf8).write(to: URL(fileURLWithPath: root + "/DEBIAN/control"))
            let path = directory.file("\(name).deb")
            try Account.check(Command.run("dpkg-deb", ["--build", root, path]))
            return (name, path)
        }

        /// apt run through real sudo by an account, then by root, then dpkg by hand: dpkg logs every
        /// change as root; the agent matches each to the apt run (history.log) that asked for it.
        @Test func packageChangesCarryWhoAskedAptForThem() throws {
            let fleet = try Fleet()
            try fleet.startCollector()
            // apt and dpkg write their logs where the test says: the host's own logs are left alone.
            let logs = fleet.directory.file("apt-logs")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let dpkgLog = logs + "/dpkg.log"
            let aptOptions = [
                "-o", "Dir::Log=\(logs)", "-o", "Dir::Log::History=history.log", "-o", "Dir::Log::Terminal=term.log",
                "-o", "DPkg::Options::=--log=\(dpkgLog)", "-y", "-q",
            ]
            try fleet.startAgent(extra: [
                "--tail-file", dpkgLog, "--tail-file", logs + "/history.log", "--read-from", "beginning", "--file-poll-interval-ms", "50",
            ])

            let account = Account()
            try account.create(sudoCommands: ["/usr/bin/apt-get"])
            defer { try? account.delete() }
            let package = try Self.buildPackage(directory: fleet.directory)
            defer { _ = try? Command.run("dpkg", ["--purge", package.name]) }
            try Account.check(
                Command.run("runuser", ["-u", account.name, "--", "sudo", "-n", "/usr/bin/apt-get"] + aptOptions + ["install", package.path]))
            try Account.check(Command.run("apt-get", aptOptions + ["purge", package.name]))
            try Account.check(Command.run("dpkg", ["--log=\(dpkgLog)", "-i", package.path]))

            let records = try fleet.waitForStored(sourceSuffix: ".linux", count: 5)
            let history = try String(contentsOfFile: logs + "/history.log", encoding: .utf8)
            #expect(history.contains("Requested-By: \(account.name)"), "\(history)")
            func one(_ source: String, _ name: String, _ description: String) -> CloudTrailRecord? {
                let matching = records.filter { $0.eventSource == source && $0.eventName == name }
                #expect(matching.count == 1, "\(description): \(records.map { "\($0.eventSource ?? "-") \($0.eventName ?? "-")" })")
                return matching.first
            }
            let aptInstall = one("apt.linux", "InstallPackages", "apt install")
            #expect(aptInstall?.userIdentity?.userName == account.name)
            #expect(one("apt.linux", "PurgePackages", "apt purge")?.userIdentity?.userName == "root")

            let installs = records.filter { $0.eventSource == "dpkg.linux" && $0.eventName == "InstallPackage" }.sorted {
                $0.eventTime < $1.eventTime
            }
            #expect(installs.count == 2 && installs.allSatisfy { $0.requestParameters?["package"]?.stringValue == package.name })
            // The install apt ran for the account names it; the one by hand names nobody.
            let bySudo = installs.first { $0.requestParameters?["aptRun"] != nil }
            #expect(bySudo?.userIdentity?.userName == "root")
            #expect(bySudo?.userIdentity?.sessionContext?.sessionIssuer?.userName == account.name)
            #expect(bySudo?.requestParameters?["aptRun"]?["commandLine"]?.stringValue?.hasSuffix("install \(package.path)") == true)
            #expect(installs.filter { $0.requestParameters?["aptRun"] == nil && $0.userIdentity?.sessionContext == nil }.count == 1)
            let removal = one("dpkg.linux", "RemovePackage", "dpkg remove")
            #expect(removal?.requestParameters?["aptRun"]?["commandLine"]?.stringValue?.hasSuffix("purge \(package.name)") == true)
            #expect(removal?.userIdentity?.sessionContext == nil)
        }
    }
}
