// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

/// The archive's bookkeeping against the SQLite store: claims, digests chained one to the next,
/// uploads in order, signing keys.
struct ArchiveLedgerTests {
    let directory: TemporaryDirectory
    let store: SQLiteEventStore
    var ledger: any ArchiveLedger { store.archiveLedger }

    init() throws {
        directory = try TemporaryDirectory(prefix: "ledger")
        store = try SQLiteEventStore(path: directory.file("events.sqlite"), archiving: true)
    }

    func insert(_ indices: Range<Int>) async throws {
        _ = try await store.insert(indices.map { try CollectorTestRecords.stored(CollectorTestRecords.record(index: $0)) })
    }

    func digest(_ key: String) -> @Sendable (ArchiveDigest?, [ArchiveLogFile]) throws -> ArchiveDigest {
        { previous, files in
            ArchiveDigest(
                id: 0, key: key, startTime: previous?.endTime ?? 0, endTime: (previous?.endTime ?? 0) + 60,
                json: Data(files.map(\.key).joined(separator: ",").utf8), sha256: "sha-\(key)", signature: "sig-\(key)", fingerprint: "fp")
        }
    }

    @Test func everyEventIsClaimedByExactlyOneLogFileInTheOrderStored() async throws {
        defer { directory.remove() }
        try await insert(0..<5)
        let first = try #require(try await ledger.claimLogFile(key: "a.json.gz", kind: .events, deliveredAt: 1, limit: 3))
        let second = try #require(try await ledger.claimLogFile(key: "b.json.gz", kind: .events, deliveredAt: 2, limit: 3))
        #expect(first.records == 3 && second.records == 2)
        #expect(try await ledger.claimLogFile(key: "c.json.gz", kind: .events, deliveredAt: 3, limit: 3) == nil)
        let claimed = try await ledger.records(inLogFile: first.id).map(\.json) + ledger.records(inLogFile: second.id).map(\.json)
        let ids = try claimed.map { try JSONDecoder().decode(CloudTrailRecord.self, from: Data($0.utf8)).eventID }
        #expect(ids == (0..<5).map { CollectorTestRecords.record(index: $0).eventID })
        // Claimed but not written: found again after a crash, until marked written.
        #expect(try await ledger.unwrittenLogFiles().map(\.key) == ["a.json.gz", "b.json.gz"])
        try await ledger.logFileWritten(id: first.id, sha256: "aa", oldestEventTime: 1, newestEventTime: 2, records: 3)
        #expect(try await ledger.unwrittenLogFiles().map(\.key) == ["b.json.gz"])
    }

    @Test func eachDigestListsTheLogFilesWrittenSinceThePreviousOne() async throws {
        defer { directory.remove() }
        try await insert(0..<2)
        let file = try #require(try await ledger.claimLogFile(key: "a.json.gz", kind: .events, deliveredAt: 1, limit: 10))
        try await ledger.logFileWritten(id: file.id, sha256: "aa", oldestEventTime: 1, newestEventTime: 2, records: 2)
        let first = try await ledger.createDigest(digest("d1"))
        #expect(first.json == Data("a.json.gz".utf8) && first.id > 0)
        let second = try await ledger.createDigest(digest("d2"))
        #expect(second.json.isEmpty && second.startTime == first.endTime)
        #expect(try await ledger.lastDigest()?.key == "d2")
        #expect(try await ledger.unwrittenDigests().map(\.key) == ["d1", "d2"])
        try await ledger.digestWritten(id: first.id)
        #expect(try await ledger.unwrittenDigests().map(\.key) == ["d2"])
    }

    @Test func aDigestIsUploadedOnlyAfterItsLogFiles() async throws {
        defer { directory.remove() }
        try await insert(0..<2)
        let file = try #require(try await ledger.claimLogFile(key: "a.json.gz", kind: .events, deliveredAt: 1, limit: 10))
        try await ledger.logFileWritten(id: file.id, sha256: "aa", oldestEventTime: 1, newestEventTime: 2, records: 2)
        let digest = try await ledger.createDigest(digest("d1"))
        try await ledger.digestWritten(id: digest.id)
        #expect(try await ledger.pendingUploads(limit: 10).map(\.key) == ["a.json.gz"])
        try await ledger.uploaded(ArchiveUpload(kind: .logFile, id: file.id, key: file.key))
        let next = try await ledger.pendingUploads(limit: 10)
        #expect(next.map(\.key) == ["d1"] && next.first?.signature == "sig-d1")
        try await ledger.uploaded(try #require(next.first))
        #expect(try await ledger.pendingUploads(limit: 10).isEmpty)
    }

    @Test func aReplacedSigningKeyStaysListedForTheTimeItSigned() async throws {
        defer { directory.remove() }
        try ledger.useSigningKey(fingerprint: "old", der: Data([1]), now: 100)
        try ledger.useSigningKey(fingerprint: "old", der: Data([1]), now: 150)  // the same key again: nothing changes
        try ledger.useSigningKey(fingerprint: "new", der: Data([2]), now: 200)
        #expect(try await ledger.publicKeys(start: 0, end: 1000).map(\.fingerprint) == ["old", "new"])
        #expect(try await ledger.publicKeys(start: 0, end: 1000).first?.validUntil == 200)
        #expect(try await ledger.publicKeys(start: 201, end: 1000).map(\.fingerprint) == ["new"])
        #expect(try await ledger.publicKeys(start: 0, end: 99).isEmpty)
    }
}
