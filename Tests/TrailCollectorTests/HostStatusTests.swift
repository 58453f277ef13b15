// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

/// The store keeps one row a host as records arrive: when, its newest event, its newest heartbeat.
struct HostStatusTests {
    static func heartbeat(_ time: String, pending: Int) -> CloudTrailRecord {
        var record = CollectorTestRecords.record(name: "Heartbeat", source: "agent.hosttrail", time: time)
        record.requestParameters = ["spool": ["pendingRecords": .integer(Int64(pending))], "intervalSeconds": 60]
        return record
    }

    @Test func eachHostsLatestRecordAndHeartbeatAreKept() async throws {
        let directory = try TemporaryDirectory(prefix: "hosts")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        _ = try await store.insert([
            try CollectorTestRecords.stored(CollectorTestRecords.record(time: "2026-11-24T10:00:00Z")),
            try CollectorTestRecords.stored(Self.heartbeat("2026-11-24T10:05:00Z", pending: 7)),
            try CollectorTestRecords.stored(CollectorTestRecords.record(host: "web-02", time: "2026-11-24T09:00:00Z"), host: "web-02"),
        ])
        // A late heartbeat (an older event time, delivered after) does not replace the newer one.
        _ = try await store.insert([
            try CollectorTestRecords.stored(Self.heartbeat("2026-11-24T10:01:00Z", pending: 99)),
            try CollectorTestRecords.stored(CollectorTestRecords.record(time: "2026-11-24T10:02:00Z", index: 1)),
        ])
        // A duplicate is not counted again.
        _ = try await store.insert([try CollectorTestRecords.stored(CollectorTestRecords.record(time: "2026-11-24T10:00:00Z"))])
        let hosts = try await store.hostStatuses()
        #expect(hosts.map(\.host) == ["web-01", "web-02"])
        let web = try #require(hosts.first)
        #expect(
            web.recordsReceived == 4 && web.newestEventTime == Int64(TrailTime.parseISO8601("2026-11-24T10:05:00Z")!.timeIntervalSince1970 * 1000))
        let beat = try JSONValue.parse(Array(try #require(web.heartbeat).utf8))
        #expect(beat["requestParameters"]?["spool"]?["pendingRecords"] == 7)
        #expect(hosts[1].heartbeat == nil && hosts[1].recordsReceived == 1)
    }
}
