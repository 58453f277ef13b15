// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

struct JournalEntryConverterTests {
    let converter = JournalEntryConverter(
        builder: HostRecordBuilder(host: HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil)))
    // A cursor as sd_journal_get_cursor(3) writes it.
    let cursor = "s=4c8a9d1f2e3b4a5c6d7e8f9012345678;i=1a2b;b=49ebff6b221f483481f0dc7079918f4d;m=4d3a1b2;t=6460a1b2c3d4e;x=9f8e7d6c5b4a3928"

    @Test func theCursorNamesItsRealtime() {
        #expect(JournalEntry.realtimeMicroseconds(ofCursor: cursor) == 0x6460a1b2c3d4e)
        #expect(JournalEntry.realtimeMicroseconds(ofCursor: "s=1;i=2") == nil)
        #expect(JournalEntry.realtimeMicroseconds(ofCursor: "t=zz") == nil)
    }

    @Test func anEntryBecomesTheRecordItsAuthLogLineWould() throws {
        let entry = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1_795_564_971_133_987, sourceRealtimeMicroseconds: 1_795_564_971_000_000, identifier: "sshd",
            message: "Accepted password for alice from 192.0.2.1 port 2222 ssh2", pid: 812, unit: "ssh.service",
            bootID: "49ebff6b221f483481f0dc7079918f4d", transport: "syslog")
        guard case .record(let converted) = converter.convert(entry) else {
            Issue.record("not converted")
            return
        }
        let record = converted.record
        #expect(record.eventSource == "sshd.linux" && record.eventName == "Login")
        #expect(record.userIdentity?.userName == "alice")
        #expect(record.sourceIPAddress == "192.0.2.1")
        // The logging process's own time, not journald's receive time.
        #expect(record.eventTime == TrailTime.format(Date(timeIntervalSince1970: 1_795_564_971)))
        #expect(record.additionalEventData?["origin"]?["cursor"]?.stringValue == cursor)
        #expect(record.additionalEventData?["origin"]?["unit"]?.stringValue == "ssh.service")
        #expect(record.additionalEventData?["origin"]?["source"]?.stringValue == "journal")
        #expect(record.additionalEventData?["process"]?["pid"]?.integerValue == 812)
        // The event ID is the cursor's: reading the entry again yields the same one.
        let again = try #require(converter.convert(entry).record)
        #expect(again.record.eventID == record.eventID)
        var other = entry
        other.cursor = cursor.replacingOccurrences(of: "i=1a2b", with: "i=1a2c")
        let next = try #require(converter.convert(other).record)
        #expect(next.record.eventID != record.eventID)
    }

    @Test func withoutASourceTimeJournaldsIsUsed() {
        let entry = JournalEntry(cursor: cursor, realtimeMicroseconds: 1_795_564_972_500_000, identifier: "su", message: "(to root) alice on pts/0")
        guard case .record(let converted) = converter.convert(entry) else {
            Issue.record("not converted")
            return
        }
        let record = converted.record
        #expect(record.eventTime == TrailTime.format(Date(timeIntervalSince1970: 1_795_564_972.5)))
    }

    /// Any account can log `logger -t sshd …`: journald's own fields say who logged it.
    @Test func anUnprivilegedSenderCannotSpeakForAPrivilegedProgram() throws {
        let forged = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1_795_564_971_000_000, identifier: "sshd",
            message: "Failed password for root from 10.9.9.9 port 22 ssh2", pid: 16855, sender: JournalSender(uid: "1001", effectiveCapabilities: nil)
        )
        guard case .record(let converted) = converter.convert(forged) else {
            Issue.record("a forged entry must be recorded, as what it is")
            return
        }
        let record = converted.record
        #expect(record.eventSource == "agent.hosttrail" && record.eventName == "UnverifiedLogEntry")
        #expect(record.errorCode == "UnverifiedSender")
        #expect(record.userIdentity?.principalId == "1001")
        #expect(record.sourceIPAddress == "localhost")
        #expect(record.requestParameters?["claimedEventSource"]?.stringValue == "sshd.linux")
        #expect(record.additionalEventData?["message"]?.stringValue == forged.message)
        // A PAM line under any name, logged by a process without root's powers, too.
        var pam = forged
        pam.identifier = "foo"
        pam.message = "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)"
        pam.sender = JournalSender(uid: "1001", effectiveCapabilities: "0")
        let pamRecord = try #require(converter.convert(pam).record)
        #expect(pamRecord.record.eventName == "UnverifiedLogEntry")
        // Capabilities without a set-user-ID-root executable: a user namespace of the account's
        // own (`unshare -Ur logger …` has every capability there, and no readable `_EXE`).
        var namespaced = forged
        namespaced.sender = JournalSender(uid: "1001", effectiveCapabilities: "1ffffffffff")
        let namespacedRecord = try #require(converter.convert(namespaced).record)
        #expect(namespacedRecord.record.eventName == "UnverifiedLogEntry")
        // Root, a set-user-ID-root program (sudo: its caller's uid, full capabilities), or an
        // entry journald did not stamp (a copied journal) are read as the program they name.
        let sudo = JournalSender(uid: "1001", effectiveCapabilities: "1fffeffffff", executableIsSetUserIDRoot: true)
        for sender in [JournalSender(uid: "0", effectiveCapabilities: nil), sudo, JournalSender()] {
            var real = forged
            real.sender = sender
            let converted = try #require(converter.convert(real).record)
            #expect(converted.record.eventSource == "sshd.linux", "\(sender)")
        }
    }

    /// sudo logs `command not allowed` and exits at once, often before journald reads its
    /// capabilities: a refusal of the logging account itself is believed (that account could make
    /// the real one), anything else from such a process is not.
    @Test func aRefusalOfTheSenderItselfIsBelievedWhenItsPowersAreUnknown() throws {
        let names = AccountNames { $0 == 1001 ? "alice" : $0 == 1002 ? "bob" : nil }
        let converter = JournalEntryConverter(builder: HostRecordBuilder(host: converter.builder.host, accountNames: names))
        func converted(_ message: String, identifier: String = "sudo", uid: String = "1001", capabilities: String? = nil) -> CloudTrailRecord? {
            let entry = JournalEntry(
                cursor: cursor, realtimeMicroseconds: 1, identifier: identifier, message: message, pid: 5646,
                sender: JournalSender(uid: uid, effectiveCapabilities: capabilities))
            guard case .record(let record) = converter.convert(entry) else { return nil }
            return record.record
        }
        let denial = "alice : command not allowed ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls /root"
        let refused = try #require(converted(denial))
        #expect(refused.eventSource == "sudo.linux" && refused.errorCode == "CommandNotAllowed")
        #expect(refused.userIdentity?.sessionContext?.sessionIssuer?.userName == "alice")
        // Or gone between journald's reading of its capabilities and of its executable.
        let halfRead = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1, identifier: "sudo", message: denial,
            sender: JournalSender(uid: "1001", effectiveCapabilities: "1fffeffffff"))
        let halfReadRecord = try #require(converter.convert(halfRead).record)
        #expect(halfReadRecord.record.errorCode == "CommandNotAllowed")
        // Another account's refusal, a success, or a sender journald saw without powers: unverified.
        for (message, uid, capabilities) in [
            (denial, "1002", nil), ("alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", "1001", nil), (denial, "1001", "0"),
            ("alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", "1001", "1fffeffffff"),
        ] as [(String, String, String?)] {
            #expect(converted(message, uid: uid, capabilities: capabilities)?.eventName == "UnverifiedLogEntry", "\(message) from \(uid)")
        }
        // A refusal naming no invoker (sshd's) is never the sender's own.
        #expect(converted("Failed password for alice from 10.9.9.9 port 22 ssh2", identifier: "sshd")?.eventName == "UnverifiedLogEntry")
    }

    /// A line no parser knows, kept by an `include` selector, is the operator's choice and claims
    /// no privileged program's words: a service running as its own account logs it as is.
    @Test func genericRecordsOfUnprivilegedServicesAreKept() throws {
        let kept = JournalEntryConverter(
            builder: converter.builder, selectors: EventSelectors([try EventSelector(parsing: "include identifier=nginx")]))
        let entry = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1, identifier: "nginx", message: "GET / 200",
            sender: JournalSender(uid: "33", effectiveCapabilities: "0"))
        guard case .record(let record) = kept.convert(entry) else {
            Issue.record("not kept")
            return
        }
        #expect(record.record.eventSource == "nginx.linux" && record.record.eventName == "LogMessage")
    }

    @Test func whoActedComesFromTheProcessWhenTheLineDoesNotSay() throws {
        // passwd is set-user-ID: journald's _UID is the account that ran it.
        let passwd = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1, identifier: "passwd", message: "pam_unix(passwd:chauthtok): password changed for alice",
            sender: JournalSender(uid: "1001", effectiveCapabilities: "1fffeffffff", executableIsSetUserIDRoot: true))
        guard case .record(let changed) = converter.convert(passwd) else {
            Issue.record("not converted")
            return
        }
        #expect(changed.record.userIdentity?.principalId == "1001")
        #expect(changed.record.requestParameters?["userName"]?.stringValue == "alice")
        // A user's own service manager starts that user's units.
        let userUnit = JournalEntry(
            cursor: cursor, realtimeMicroseconds: 1, identifier: "systemd", message: "Started backup.service - Backup.",
            sender: JournalSender(uid: "1001", effectiveCapabilities: "0"))
        let started = try #require(converter.convert(userUnit).record)
        #expect(started.record.eventSource == "systemd.linux")
        #expect(started.record.userIdentity?.principalId == "1001")
        #expect(started.record.userIdentity?.userName == nil)
    }

    @Test func entriesNoRuleKnowsAreNotRecords() {
        for (identifier, message) in [("kernel", "eth0: link up"), ("nginx", "GET /"), ("sshd", "Server listening on 0.0.0.0 port 22."), ("", "")] {
            let entry = JournalEntry(cursor: cursor, realtimeMicroseconds: 1, identifier: identifier, message: message)
            if case .record = converter.convert(entry) { Issue.record("\(identifier): \(message) became a record") }
        }
    }

    @Test func everyLineTheParsersReadPassesTheJournalMatches() {
        // The reader pushes these identifiers (or the auth facilities) into sd_journal_add_match;
        // an identifier missing here would silently lose its entries from the journal.
        for example in AuthLogParserTests.cases {
            #expect(JournalEntryConverter.parsedIdentifiers.contains(example.identifier), "\(example.identifier) is not matched")
        }
    }
}

extension LogLineConverter.Outcome {
    /// The record, if the outcome is one.
    var record: HostRecord? {
        if case .record(let record) = self { record } else { nil }
    }
}
