// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

/// What sshd really writes for each kind of attempt (OpenSSH 9.2, from the journal of this
/// project's test machine; 9.8+ writes the same from `sshd-session`), fed through the tailer's
/// converter and the tracker: one attempt, one `Login` record.
struct SSHLoginTrackerTests {
    let converter = LogLineConverter(
        builder: HostRecordBuilder(host: HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil)))
    let reference = TrailTime.parseISO8601("2026-12-05T00:40:00Z")!

    /// The records `lines` (`pid: message`) make, as the tailer writes them.
    func records(_ lines: [(Int, String)], identifier: String = "sshd") -> [CloudTrailRecord] {
        var tracker = SSHLoginTracker()
        var records: [CloudTrailRecord] = []
        for (offset, (pid, message)) in lines.enumerated() {
            let line = "2026-12-05T00:39:00.\(String(format: "%06d", offset))+00:00 vm \(identifier)[\(pid)]: \(message)"
            let origin = HostRecordBuilder.Origin.fileLine(
                source: "file:/var/log/auth.log", position: "p;offset=\(offset)", path: "/var/log/auth.log", offset: offset)
            guard
                case .record(var record) = converter.convert(
                    Substring(line), format: .syslog, reference: reference, utcOffsetSeconds: 0, notBefore: nil, origin: origin)
            else { continue }
            switch tracker.fold(record) {
            case .keep: records.append(record.record)
            case .drop: break
            case .link(let link):
                link.apply(to: &record)
                records.append(record.record)
            }
        }
        return records
    }

    @Test(arguments: ["sshd", "sshd-session"]) func aWrongPasswordIsOneLoginRecord(identifier: String) {
        let records = records(
            [
                (17148, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1  user=httrust"),
                (17148, "Failed password for httrust from 127.0.0.1 port 44278 ssh2"),
                (17148, "Connection closed by authenticating user httrust 127.0.0.1 port 44278 [preauth]"),
            ], identifier: identifier)
        #expect(records.map { "\($0.eventName ?? "-")/\($0.errorCode ?? "-")" } == ["Login/AuthFailure"])
        #expect(records.first?.sourceIPAddress == "127.0.0.1")
        #expect(records.first?.requestParameters?["authMethod"]?.stringValue == "password")
        #expect(records.first?.requestParameters?["port"]?.integerValue == 44278)
        #expect(records.first?.responseElements?["ConsoleLogin"]?.stringValue == "Failure")
    }

    @Test func anUnknownAccountIsOneLoginRecordAtTheAddressSSHDWrote() {
        // The account name the client sent, word for word, carries a made-up address and port.
        let records = records([
            (17152, "Invalid user zz from 127.71.232.66 port 1 from 127.0.0.1 port 56330"),
            (17152, "pam_unix(sshd:auth): check pass; user unknown"),
            (17152, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1"),
            (17152, "Failed password for invalid user zz from 127.71.232.66 port 1 from 127.0.0.1 port 56330 ssh2"),
            (17152, "Connection closed by invalid user zz from 127.71.232.66 port 1 127.0.0.1 port 56330 [preauth]"),
        ])
        #expect(records.count == 1)
        let login = records.first
        #expect(login?.eventName == "Login" && login?.errorCode == "InvalidUser")
        #expect(login?.sourceIPAddress == "127.0.0.1")
        #expect(login?.requestParameters?["port"]?.integerValue == 56330)
        #expect(login?.userIdentity?.userName == HostActivity.hiddenUserName)
        #expect(
            login?.additionalEventData?["message"]?.stringValue
                == "Failed password for invalid user HIDDEN_DUE_TO_SECURITY_REASONS from 127.0.0.1 port 56330 ssh2")
    }

    @Test func aDisconnectSSHDCutShortStillEndsItsConnection() {
        let name = String(repeating: #"\\001"#, count: 100)
        let records = records([
            (600, "Failed password for invalid user \(name.prefix(200)) from 203.0.113.7 port 40022 ssh2"),
            (600, "Connection closed by invalid user \(name) 203.0.1"),
            // No attempt before it: an attempt of its own, from an address nobody can tell.
            (601, "Connection closed by invalid user \(name) 20"),
        ])
        #expect(records.map { "\($0.errorCode ?? "-") \($0.sourceIPAddress ?? "-")" } == ["InvalidUser 203.0.113.7", "InvalidUser unknown"])
    }

    @Test func severalTriesAreSeveralAttemptsAndTheGiveUpAddsNone() {
        let records = records([
            (300, "Failed password for root from 203.0.113.7 port 40022 ssh2"),
            (300, "Failed password for root from 203.0.113.7 port 40022 ssh2"),
            (300, "Failed password for root from 203.0.113.7 port 40022 ssh2"),
            (300, "Connection closed by authenticating user root 203.0.113.7 port 40022 [preauth]"),
        ])
        #expect(records.map { $0.errorCode ?? "-" } == ["AuthFailure", "AuthFailure", "AuthFailure"])
    }

    @Test func aClientThatLeavesWithoutTryingIsOneAttempt() {
        // An account probe: the name, then nothing.
        let records = records([
            (4242, "Invalid user admin from 203.0.113.7 port 51234"),
            (4242, "Connection closed by invalid user admin 203.0.113.7 port 51234 [preauth]"),
            // A key offered and refused logs nothing until the client leaves.
            (4250, "Connection closed by authenticating user root 203.0.113.8 port 51300 [preauth]"),
        ])
        #expect(records.map { "\($0.eventName ?? "-")/\($0.errorCode ?? "-")" } == ["Login/InvalidUser", "Login/AuthenticationAbandoned"])
        #expect(records.map(\.sourceIPAddress) == ["203.0.113.7", "203.0.113.8"])
    }

    @Test func aLoginsSessionsCarryItsAddressAndPointToIt() throws {
        let records = records([
            (17138, "Accepted password for httrust from 127.0.0.1 port 44272 ssh2"),
            (17138, "pam_unix(sshd:session): session opened for user httrust(uid=1001) by (uid=0)"),
            // The session's own process logs the disconnect with another pid.
            (17144, "Received disconnect from 127.0.0.1 port 44272:11: disconnected by user"),
            (17144, "Disconnected from user httrust 127.0.0.1 port 44272"),
            (17138, "pam_unix(sshd:session): session closed for user httrust"),
        ])
        #expect(records.map(\.eventName) == ["Login", "SessionStart", "SessionEnd"])
        let login = try #require(records.first)
        #expect(login.responseElements?["ConsoleLogin"]?.stringValue == "Success")
        for session in records.dropFirst() {
            #expect(session.sourceIPAddress == "127.0.0.1")
            #expect(session.requestParameters?["loginEventId"]?.stringValue == login.eventID)
            #expect(session.requestParameters?["port"]?.integerValue == 44272)
        }
    }

    @Test func aReusedPidIsANewConnection() {
        // The first connection ended with too many failures (no line the tracker reads as an end);
        // the pid comes back for another client, who leaves without trying.
        let records = records([
            (500, "Failed password for root from 203.0.113.7 port 40022 ssh2"),
            (500, "Disconnecting authenticating user root 203.0.113.7 port 40022: Too many authentication failures [preauth]"),
            (500, "Connection closed by authenticating user bob 198.51.100.9 port 60000 [preauth]"),
        ])
        #expect(records.map { $0.errorCode ?? "-" } == ["AuthFailure", "AuthenticationAbandoned"])
    }

    /// A brute force of 10,000 connections (more than the tracker remembers) fills it: a
    /// logged-in session still ends linked to its login.
    @Test func aFloodOfAttemptsDoesNotCutASessionFromItsLogin() throws {
        let flood = (0..<10_000).map { (100_000 + $0, "Failed password for root from 203.0.113.7 port \(1024 + $0 % 60000) ssh2") }
        let records = records(
            [
                (17138, "Accepted password for httrust from 127.0.0.1 port 44272 ssh2"),
                (17138, "pam_unix(sshd:session): session opened for user httrust(uid=1001) by (uid=0)"),
            ]
                + flood + [(17138, "pam_unix(sshd:session): session closed for user httrust")])
        let login = try #require(records.first)
        let end = try #require(records.last)
        #expect(end.eventName == "SessionEnd" && end.requestParameters?["loginEventId"]?.stringValue == login.eventID)
    }
}
