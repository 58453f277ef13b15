// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TrailCore

/// Deletes events older than the retention period (`--retention-days`), in small batches so
/// ingest never waits long for the store, and records each batch in the transaction that deleted
/// it as a `collector.hosttrail DeleteExpiredEvents` event: a policy that drops records says so in
/// the trail, and no crash can separate the two.
struct RetentionService: Service {
    let pipeline: IngestPipeline
    let records: CollectorRecords
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
            // The summary is stored with the deletion, in the store's transaction; the pipeline's
            // consumers hear of it after.
            let summary = Mutex<StoredRecord?>(nil)
            let batch = try await pipeline.store.deleteOlderThan(cutoff, limit: Self.batch) { [self] count, oldest, newest in
                let record = try records.expiredEventsDeleted(
                    count: count, oldest: oldest, newest: newest, retentionDays: Int(retention.components.seconds / 86_400), now: now)
                summary.withLock { $0 = record }
                return record
            }
            if let record = summary.withLock({ $0 }) { await pipeline.committed([record]) }
            deleted += batch
            if batch < Self.batch { break }
            await Task.yield()
        }
        logger.debug("retention pass", metadata: ["retention.deleted": "\(deleted)"])
        if deleted > 0 {
            logger.notice(
                "deleted expired events",
                metadata: ["retention.deleted": "\(deleted)", "retention.cutoff": "\(TrailTime.formatEpochSeconds(cutoff / 1000))"])
        }
        return deleted
    }
}
