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
        guard case .record(let again) = converter.convert(entry) else { return }
        #expect(again.record.eventID == record.eventID)
        var other = entry
        other.cursor = cursor.replacingOccurrences(of: "i=1a2b", with: "i=1a2c")
        guard case .record(let next) = converter.convert(other) else { return }
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
