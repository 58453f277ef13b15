// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

struct RetentionServiceTests {
    /// 2,500 expired events go in three batches; the 10 recent ones stay; each batch is itself a
    /// record, written in the transaction that deleted it, saying how many and from when to when.
    @Test func expiredEventsAreDeletedInBatchesAndTheDeletionIsRecorded() async throws {
        let directory = try TemporaryDirectory(prefix: "retention")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let now = TrailTime.parseISO8601("2026-11-25T12:00:00Z")!
        var records: [StoredRecord] = []
        for index in 0..<2500 {
            let time = TrailTime.format(now.addingTimeInterval(-40 * 86_400 + Double(index)))
            records.append(try CollectorTestRecords.stored(CollectorTestRecords.record(name: "Old", time: time, index: index)))
        }
        for index in 0..<10 {
            records.append(
                try CollectorTestRecords.stored(
                    CollectorTestRecords.record(name: "Recent", time: TrailTime.format(now.addingTimeInterval(-Double(index) * 3600)), index: index)))
        }
        _ = try await store.insert(records)
        let consumer = RecordingConsumer()
        let service = RetentionService(
            pipeline: IngestPipeline(store: store, consumers: [consumer]), records: CollectorRecords(binder: CollectorTestRecords.binder),
            retention: .seconds(30 * 86_400), interval: .seconds(60),
            logger: Logger(label: "test")
        )
        #expect(try await service.prune(now: now) == 2500)
        #expect(try await store.count() == 13)
        let all = try await store.lookup(EventQuery(filters: [], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        let decoded = try all.records.map { try CloudTrailRecord.decode(from: Data($0.json.utf8)) }
        #expect(decoded.filter { $0.eventName == "Recent" }.count == 10)
        let summaries = decoded.filter { $0.eventName == "DeleteExpiredEvents" }
            .sorted { ($0.requestParameters?["oldestEventTime"]?.stringValue ?? "") < ($1.requestParameters?["oldestEventTime"]?.stringValue ?? "") }
        #expect(summaries.map { $0.requestParameters?["deletedEvents"]?.integerValue } == [1000, 1000, 500])
        #expect(consumer.names == ["DeleteExpiredEvents", "DeleteExpiredEvents", "DeleteExpiredEvents"])
        #expect(summaries.allSatisfy { $0.eventSource == "collector.hosttrail" && $0.requestParameters?["retentionDays"]?.integerValue == 30 })
        #expect(summaries.first?.requestParameters?["oldestEventTime"]?.stringValue == "2026-10-16T12:00:00Z")
        #expect(summaries.last?.requestParameters?["newestEventTime"]?.stringValue == TrailTime.format(now.addingTimeInterval(-40 * 86_400 + 2499)))
        // Nothing more to delete: no new record.
        #expect(try await service.prune(now: now) == 0)
        #expect(try await store.count() == 13)
    }
}
