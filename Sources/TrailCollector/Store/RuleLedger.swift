// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailRules

/// The rules' bookkeeping in the store's database: where evaluation stands, and the action jobs.
/// A match, its jobs and the position after it are one transaction: a crash before it leaves the
/// records to be evaluated again (same firings, same IDs), a crash after it leaves jobs queued.
public protocol RuleLedger: Sendable {
    /// Where evaluation stands; `nil` before the first evaluation.
    func position() async throws -> RulePosition?
    /// The newest stored record's row (where evaluation starts the first time).
    func newestRow() async throws -> Int64
    /// Up to `limit` records stored after `row`, in the order they were stored.
    func records(after row: Int64, limit: Int) async throws -> [RowRecord]
    /// The stored JSON of each of `events` still stored, in order.
    func recordJSON(of events: [MatchedEvent]) async throws -> [String]
    /// In one transaction: stores `matches` (skipping any already stored), queues the jobs of the
    /// new ones (a job's idempotency key is unique), saves `position` (when given); the matches
    /// new to the store.
    func commit(matches: [StoredRecord], jobs: [ActionJob.New], position: RulePosition?) async throws -> [StoredRecord]
    /// Pending jobs due at `now` (ms), the oldest first.
    func dueJobs(now: Int64, limit: Int) async throws -> [ActionJob]
    /// When the next pending job is due (ms); `nil` when none is pending.
    func nextDue() async throws -> Int64?
    /// In one transaction: the attempt's outcome on the job and its `InvokeAction` record.
    func finish(_ job: ActionJob, update: ActionJob.Update, record: StoredRecord) async throws -> [StoredRecord]
    /// Jobs in `state` (all when `nil`), newest first.
    func jobs(in state: ActionJob.State?, limit: Int) async throws -> [ActionJob]
    /// Sets a failed job pending again, due now, its attempts and age counted afresh; `false` when
    /// there is no failed job `id`.
    func retry(jobID: Int64, now: Int64) async throws -> Bool
}

/// Where rule evaluation stands: the last row evaluated, and the engine's state then.
public struct RulePosition: Sendable {
    public var row: Int64
    public var snapshot: Data?

    public init(row: Int64, snapshot: Data?) {
        self.row = row
        self.snapshot = snapshot
    }
}

/// A stored record as rules read it back.
public struct RowRecord: Sendable {
    public var row: Int64
    public var host: String
    public var eventSource: String
    public var json: String
}
