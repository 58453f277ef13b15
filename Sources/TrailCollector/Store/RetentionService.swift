// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore

/// Deletes events older than the retention period (`--retention-days`), in small batches so
/// ingest never waits long for the store, and records each batch in the transaction that deleted
/// it as a `collector.hosttrail DeleteExpiredEvents` event: a policy that drops records says so in
/// the trail, and no crash can separate the two.
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

    /// One pass: deletes every expired event, batch by batch, each batch with the record that
    /// says so; returns how many.
    func prune(now: Date) async throws -> Int {
        let cutoff = Int64((now.timeIntervalSince1970 - Double(retention.components.seconds)) * 1000)
        var deleted = 0
        while true {
            try Task.checkCancellation()
            let batch = try await store.deleteOlderThan(cutoff, limit: Self.batch) { [self] count, oldest, newest in
                try binder.bind(summary(deleted: count, oldest: oldest, newest: newest, now: now), index: 0, host: RecordBinder.collectorHost)
            }
            deleted += batch
            if batch < Self.batch { break }
            await Task.yield()
        }
        if deleted > 0 {
            logger.notice(
                "deleted expired events",
                metadata: ["retention.deleted": "\(deleted)", "retention.cutoff": "\(TrailTime.formatEpochSeconds(cutoff / 1000))"])
        }
        return deleted
    }

    /// The `collector.hosttrail DeleteExpiredEvents` record of one deleted batch.
    func summary(deleted: Int, oldest: Int64, newest: Int64, now: Date) -> CloudTrailRecord {
        let eventID = RandomUUID.make()
        return CloudTrailRecord(
            userIdentity: UserIdentity(type: "AWSService", principalId: "hosttrail-collector", userName: "hosttrail-collector"),
            eventTime: TrailTime.format(now), eventSource: RecordBinder.collectorEventSource, eventName: "DeleteExpiredEvents",
            sourceIPAddress: "collector.hosttrail", userAgent: "hosttrail-collector",
            requestParameters: [
                "retentionDays": .integer(Int64(retention.components.seconds / 86400)), "deletedEvents": .integer(Int64(deleted)),
                "oldestEventTime": .string(TrailTime.formatEpochSeconds(oldest / 1000)),
                "newestEventTime": .string(TrailTime.formatEpochSeconds(newest / 1000)),
            ],
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
    }
}
