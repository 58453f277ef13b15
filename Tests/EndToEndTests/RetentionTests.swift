// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// `--retention-days` on a running collector: expired events go, recent ones stay, and the
/// deletion is in the trail.
@Suite(.serialized, .endToEnd)
struct RetentionTests {
    @Test func expiredEventsAreDeletedWhileIngestGoesOnAndTheDeletionIsRecorded() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--retention-days", "7", "--retention-interval-ms", "200", "--log-file-interval", "1s"])
        for day in [30, 8] {
            #expect(
                try RevocationTests.deliver(fleet, as: "web-01", name: "Expired", time: Date().addingTimeInterval(-Double(day) * 86_400)).status
                    == 200)
        }
        for day in [6, 0] {
            #expect(
                try RevocationTests.deliver(fleet, as: "web-02", name: "Kept", time: Date().addingTimeInterval(-Double(day) * 86_400)).status == 200)
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
        // Deleted from the store, not from the trail: both are in the archive's log files.
        let archived = try Command.run(
            "sh",
            [
                "-c",
                "find \(fleet.directory.file("collector/archive")) -path '*/CloudTrail/*.json.gz' -exec gzip -dc {} + | grep -o '\"eventName\":\"Expired\"' | wc -l",
            ])
        #expect(archived.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(archived)")
    }

    @Test func anExpiredEventIsKeptUntilTheArchiveHasWrittenIt() throws {
        let fleet = try Fleet()
        let arguments = ["--retention-days", "7", "--retention-interval-ms", "200", "--log-file-interval", "1h", "--log-level", "debug"]
        try fleet.startCollector(extra: arguments)
        let collector = try #require(fleet.collector)
        #expect(try RevocationTests.deliver(fleet, as: "web-01", name: "NotYetArchived", time: Date().addingTimeInterval(-30 * 86_400)).status == 200)
        // Five retention passes after it was stored.
        let passes = collector.log.components(separatedBy: "retention pass").count - 1
        try collector.waitForLog("retention pass", count: passes + 5)
        #expect(try fleet.storedRecords(eventName: "NotYetArchived").count == 1)
        #expect(try fleet.storedRecords(eventName: "DeleteExpiredEvents").isEmpty)
        // At a graceful stop the archive writes it; the next start's retention may then delete it.
        #expect(fleet.collector?.stop() == 0)
        #expect(try ArchiveTests.archivedEventIDs(fleet.directory.file("collector/archive")).count >= 1)
        try fleet.startCollector(extra: arguments)
        let deadline = Date().addingTimeInterval(10)
        while try fleet.storedRecords(eventName: "NotYetArchived").count == 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(try fleet.storedRecords(eventName: "NotYetArchived").isEmpty)
    }
}
