// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Real activity on this host, as an intruder or an administrator would cause it: SSH logins to a
/// real sshd, sudo allowed and denied, useradd and userdel. The host's journald (owning /dev/log)
/// forwards to rsyslog, which writes /var/log/auth.log, as on Debian: the agent reads the journal
/// and only watches auth.log, so each activity is recorded once.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HostActivityTests {
    /// A test account with a password and a sudo rule; removed by ``remove()``.
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
        let agent = try fleet.startAgent(extra: ["--journal", "--read-from", "end", "--tail-file", "/var/log/auth.log", "--file-poll-interval-ms", "50"])
        try agent.waitForLog("following the journal")

        let account = Account()
        try account.create()
        var deleted = false
        defer { if !deleted { try? account.delete() } }
        let (sshd, port) = try Self.startSSHD(directory: fleet.directory)
        defer { _ = sshd.stop() }
        #expect(try Self.ssh(account.name, password: "wrong", port: port) != 0)
        #expect(try Self.ssh("nobody-\(account.name)", password: "wrong", port: port) != 0)
        #expect(try Self.ssh(account.name, password: account.password, port: port) == 0)
        #expect(try Command.run("runuser", ["-u", account.name, "--", "sudo", "-n", "/usr/bin/id"]).status == 0)
        // Refused after the user's correct password: sudo logs only denials it authenticated.
        #expect(try Command.run("runuser", ["-u", account.name, "--", "sudo", "-S", "-k", "/bin/ls", "/root"], stdin: Data("\(account.password)\n".utf8)).status != 0)
        _ = sshd.stop()
        try account.delete()
        deleted = true

        func mine(_ record: CloudTrailRecord) -> Bool {
            record.userIdentity?.userName == account.name || record.userIdentity?.sessionContext?.sessionIssuer?.userName == account.name
                || record.requestParameters?["userName"]?.stringValue == account.name
        }
        func one(_ description: String, _ records: [CloudTrailRecord], where predicate: (CloudTrailRecord) -> Bool) -> CloudTrailRecord? {
            let matching = records.filter(predicate)
            #expect(matching.count == 1, "\(description): \(matching.count) records; all of the account's: \(records.filter(mine).map { "\($0.eventName)/\($0.errorCode ?? "-")" })")
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
        #expect(records.contains { $0.eventName == "Login" && $0.errorCode == "InvalidUser" && $0.userIdentity?.userName == HostActivity.hiddenUserName })
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

    /// A package of the test's own, named uniquely so no package of the host is ever touched.
    static func buildPackage(directory: TemporaryDirectory) throws -> (name: String, path: String) {
        let name = "hosttrail-test-\(String(UInt32.random(in: 0..<UInt32.max), radix: 16))"
        let root = directory.file("package")
        try FileManager.default.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
        let control = "Package: \(name)\nVersion: 1.0\nArchitecture: all\nMaintainer: HostTrail tests <tests@hosttrail.invalid>\nDescription: test package\n"
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
        try fleet.startAgent(extra: ["--tail-file", dpkgLog, "--tail-file", logs + "/history.log", "--read-from", "beginning", "--file-poll-interval-ms", "50"])

        let account = Account()
        try account.create(sudoCommands: ["/usr/bin/apt-get"])
        defer { try? account.delete() }
        let package = try Self.buildPackage(directory: fleet.directory)
        defer { _ = try? Command.run("dpkg", ["--purge", package.name]) }
        try Account.check(Command.run("runuser", ["-u", account.name, "--", "sudo", "-n", "/usr/bin/apt-get"] + aptOptions + ["install", package.path]))
        try Account.check(Command.run("apt-get", aptOptions + ["purge", package.name]))
        try Account.check(Command.run("dpkg", ["--log=\(dpkgLog)", "-i", package.path]))

        let records = try fleet.waitForStored(sourceSuffix: ".linux", count: 5)
        let history = try String(contentsOfFile: logs + "/history.log", encoding: .utf8)
        #expect(history.contains("Requested-By: \(account.name)"), "\(history)")
        func one(_ source: String, _ name: String, _ description: String) -> CloudTrailRecord? {
            let matching = records.filter { $0.eventSource == source && $0.eventName == name }
            #expect(matching.count == 1, "\(description): \(records.map { "\($0.eventSource) \($0.eventName)" })")
            return matching.first
        }
        let aptInstall = one("apt.linux", "InstallPackages", "apt install")
        #expect(aptInstall?.userIdentity?.userName == account.name)
        #expect(one("apt.linux", "PurgePackages", "apt purge")?.userIdentity?.userName == "root")

        let installs = records.filter { $0.eventSource == "dpkg.linux" && $0.eventName == "InstallPackage" }.sorted { $0.eventTime < $1.eventTime }
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
