// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore

/// Deletes events older than the retention period (`--retention-days`), in small batches so
/// ingest never waits long for the store, and records each pass that deleted anything as a
/// `collector.hosttrail DeleteExpiredEvents` event: a policy that drops records says so in the trail.
struct RetentionService: Service {
    let store: any EventStore
    let binder: RecordBinder
    let retention: Duration
    let interval: Duration
    let logger: Logger
    /// Rows per transaction: small enough that an ingest commit waits milliseconds, not seconds.
    static let batch = 1000

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await prune(now: Date())
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("cannot delete expired events; trying again later", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One pass: deletes every expired event, batch by batch; returns how many.
    func prune(now: Date) async throws -> Int {
        let cutoff = Int64((now.timeIntervalSince1970 - Double(retention.components.seconds)) * 1000)
        var deleted = 0
        var oldest: Int64?
        var newest: Int64?
        while true {
            try Task.checkCancellation()
            let pass = try await store.deleteOlderThan(cutoff, limit: Self.batch)
            deleted += pass.deleted
            oldest = [oldest, pass.oldest].compactMap { $0 }.min()
            newest = [newest, pass.newest].compactMap { $0 }.max()
            if pass.deleted < Self.batch { break }
            await Task.yield()
        }
        guard deleted > 0, let oldest, let newest else { return 0 }
        logger.notice("deleted expired events", metadata: ["retention.deleted": "\(deleted)", "retention.cutoff": "\(TrailTime.formatEpochSeconds(cutoff / 1000))"])
        let eventID = RandomUUID.make()
        let record = CloudTrailRecord(
            userIdentity: UserIdentity(type: "AWSService", principalId: "hosttrail-collector", userName: "hosttrail-collector"),
            eventTime: TrailTime.format(now), eventSource: "collector.hosttrail", eventName: "DeleteExpiredEvents",
            sourceIPAddress: "collector.hosttrail", userAgent: "hosttrail-collector",
            requestParameters: [
                "retentionDays": .integer(Int64(retention.components.seconds / 86400)), "deletedEvents": .integer(Int64(deleted)),
                "oldestEventTime": .string(TrailTime.formatEpochSeconds(oldest / 1000)), "newestEventTime": .string(TrailTime.formatEpochSeconds(newest / 1000)),
            ],
            additionalEventData: ["host": ["hostname": "collector"]],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        _ = try await store.insert([try binder.bind(record, index: 0, host: "collector")])
        return deleted
    }
}
