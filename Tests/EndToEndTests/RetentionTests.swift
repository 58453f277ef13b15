// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// `--retention-days` on a running collector: expired events go, recent ones stay, and the
/// deletion is in the trail.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RetentionTests {
    @Test func expiredEventsAreDeletedWhileIngestGoesOnAndTheDeletionIsRecorded() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--retention-days", "7", "--retention-interval-ms", "200"])
        for day in [30, 8] {
            #expect(try RevocationTests.deliver(fleet, as: "web-01", name: "Expired", time: Date().addingTimeInterval(-Double(day) * 86_400)).status == 200)
        }
        for day in [6, 0] {
            #expect(try RevocationTests.deliver(fleet, as: "web-02", name: "Kept", time: Date().addingTimeInterval(-Double(day) * 86_400)).status == 200)
        }
        // One pass or two (the service may run between the deliveries): two events deleted in all.
        var deleted: Int64 = 0
        var summaries: [CloudTrailRecord] = []
        let deadline = Date().addingTimeInterval(15)
        while deleted < 2 && Date() < deadline {
            summaries = try fleet.records(["--event-name", "DeleteExpiredEvents"], atLeast: 1)
            deleted = summaries.compactMap { $0.requestParameters?["deletedEvents"]?.integerValue }.reduce(0, +)
        }
        #expect(deleted == 2)
        #expect(summaries.allSatisfy { $0.requestParameters?["retentionDays"]?.integerValue == 7 && $0.eventSource == "collector.hosttrail" })
        #expect(try fleet.records(["--event-name", "Expired"], atLeast: 1, timeout: 1).isEmpty)
        #expect(try fleet.records(["--event-name", "Kept"], atLeast: 2).count == 2)
    }
}
