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
        // An Insight about web-01 (the collector's words) and a record dated in the future do not
        // make web-01 look newer than it is.
        var insight = CollectorTestRecords.record(name: "HostSilent", source: "collector.hosttrail", time: "2026-11-24T11:00:00Z", index: 2)
        insight.eventCategory = "Insight"
        _ = try await store.insert([try CollectorTestRecords.stored(insight)])
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
        _ = try await store.insert([
            try CollectorTestRecords.stored(CollectorTestRecords.record(host: "web-02", time: "9999-12-31T00:00:00Z", index: 3), host: "web-02")
        ])
        let future = try #require(try await store.hostStatuses().last)
        #expect(future.newestEventTime <= Int64(Date().timeIntervalSince1970 * 1000) + SQLiteEventStore.maxClockSkew)
    }
}
