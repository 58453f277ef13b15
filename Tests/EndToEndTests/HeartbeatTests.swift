// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// An agent says how it is doing in the trail itself: a Heartbeat every interval, with counters
/// that reconcile with what it was given.
@Suite(.serialized, .endToEnd)
struct HeartbeatTests {
    @Test func anAgentRecordsItsCountersEveryInterval() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        try fleet.startAgent("web-01", extra: ["--heartbeat-interval-ms", "1000"])
        for index in 0..<5 { #expect(try fleet.post(#"{"eventName":"Beat\#(index)"}"#).status == 202) }
        var beats: [CloudTrailRecord] = []
        let deadline = Date().addingTimeInterval(30)
        // Until a heartbeat counts the five events as acknowledged by the collector.
        while Date() < deadline {
            beats = try fleet.storedRecords(eventName: "Heartbeat").filter { $0.eventSource == "agent.hosttrail" }
            if beats.contains(where: { ($0.requestParameters?["spool"]?["acknowledged"]?.integerValue ?? 0) >= 5 }) { break }
            usleep(100_000)
        }
        let last = try #require(
            beats.max { ($0.requestParameters?["sequence"]?.integerValue ?? 0) < ($1.requestParameters?["sequence"]?.integerValue ?? 0) })
        let spool = try #require(last.requestParameters?["spool"])
        #expect((spool["acknowledged"]?.integerValue ?? 0) >= 5, "\(beats.map(\.requestParameters))\n\(fleet.agentLogs())")
        #expect(spool["received"]?.integerValue ?? 0 >= spool["acknowledged"]?.integerValue ?? 0)
        #expect(spool["droppedSinceLastHeartbeat"]?.integerValue == 0 && spool["pendingRecords"]?.integerValue != nil)
        #expect(last.requestParameters?["intervalSeconds"]?.integerValue == 1 && last.requestParameters?["version"]?.stringValue != nil)
        #expect((last.requestParameters?["sources"]?["socket"]?["records"]?.integerValue ?? 0) >= 5)
        #expect(Set(beats.map(\.eventID)).count == beats.count, "each heartbeat its own record")
    }
}
