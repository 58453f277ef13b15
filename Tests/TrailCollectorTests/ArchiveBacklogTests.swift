// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

/// The archive as a consumer of the ingest pipeline: woken by a full log file's worth.
struct ArchiveBacklogTests {
    @Test func aWakeupEndsTheWaitItCameBeforeOrDuring() async {
        let wakeup = Wakeup()
        #expect(await wakeup.wait(atMost: .milliseconds(5)) == false)
        wakeup.signal()
        #expect(await wakeup.wait(atMost: .seconds(60)) == true)  // given before: the wait ends at once
        #expect(await wakeup.wait(atMost: .milliseconds(5)) == false)  // taken by that wait
        let waiting = Task { await wakeup.wait(atMost: .seconds(60)) }
        wakeup.signal()
        #expect(await waiting.value == true)
        let cancelled = Task { await wakeup.wait(atMost: .seconds(60)) }
        cancelled.cancel()
        #expect(await cancelled.value == false)
    }

    static func records(_ count: Int) throws -> [StoredRecord] {
        try (0..<count).map { try CollectorTestRecords.stored(CollectorTestRecords.record(index: $0)) }
    }

    @Test func aFullFilesWorthWakesTheWriter() async throws {
        let backlog = ArchiveBacklog(recordsPerFile: 10)
        await backlog.committed(try Self.records(9))
        #expect(await backlog.wakeup.wait(atMost: .milliseconds(5)) == false)
        await backlog.committed(try Self.records(12))
        #expect(await backlog.wakeup.wait(atMost: .seconds(60)) == true)
        #expect(backlog.takeFullFiles() == 2)
        await backlog.committed(try Self.records(8))
        #expect(await backlog.wakeup.wait(atMost: .milliseconds(5)) == false)  // 1 + 8: not a file yet
        backlog.takeAll()
        #expect(backlog.takeFullFiles() == 0)
    }

    /// With an hour between timed log files, a full file's worth stored through the pipeline is
    /// written at once, and the records short of a file wait for the interval.
    @Test func theWriterWritesFullFilesAsTheyFill() async throws {
        let directory = try TemporaryDirectory(prefix: "backlog")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"), archiving: true)
        let backlog = ArchiveBacklog(recordsPerFile: ArchiveWriter.recordsPerFile)
        let pipeline = IngestPipeline(store: store, consumers: [backlog])
        let writer = ArchiveWriter(
            ledger: store.archiveLedger,
            layout: ArchiveLayout(accountID: "123456789012", region: "eu-west-1", trailName: "t", bucket: "b", prefix: ""),
            directory: directory.file("archive"), signingKey: try DigestSigningKey.generate(), logFileInterval: .seconds(3600),
            digestInterval: .seconds(3600), backlog: backlog, logger: Logger(label: "test"))
        let running = Task { await writer.writePeriodically(chainStart: ArchiveWriter.now()) }
        defer { running.cancel() }
        let records = try (0..<(ArchiveWriter.recordsPerFile + 10)).map { try CollectorTestRecords.stored(CollectorTestRecords.record(index: $0)) }
        try await pipeline.commit(records)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await store.archiveLedger.pendingUploads(limit: 10).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let written = try await store.archiveLedger.pendingUploads(limit: 10)
        #expect(written.count == 1, "one full log file")
        // The ten left over are in no log file yet.
        #expect(try await store.archiveLedger.claimLogFile(key: "rest", kind: .events, deliveredAt: 0, limit: 100)?.records == 10)
    }
}
