// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import TrailCore
import TrailRules

/// ``RuleLedger`` in the SQLite store (tables `rule_position` and `action_jobs`, migration `v6-rules`).
struct SQLiteRuleLedger: RuleLedger {
    let pool: DatabasePool

    func position() async throws -> RulePosition? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT row, snapshot FROM rule_position WHERE id = 1").map { RulePosition(row: $0[0], snapshot: $0[1]) }
        }
    }

    func newestRow() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM events") ?? 0 }
    }

    func records(after row: Int64, limit: Int) async throws -> [RowRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT rowid, host, event_source, record FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?", arguments: [row, limit]
            ).map { RowRecord(row: $0[0], host: $0[1], eventSource: $0[2], json: $0[3]) }
        }
    }

    func recordJSON(of events: [MatchedEvent]) async throws -> [String] {
        try await pool.read { db in
            try events.compactMap { event in
                try String.fetchOne(db, sql: "SELECT record FROM events WHERE host = ? AND event_id = ?", arguments: [event.host, event.eventID])
            }
        }
    }

    func commit(matches: [StoredRecord], jobs: [ActionJob.New], position: RulePosition?) async throws -> [StoredRecord] {
        try await pool.write { db in
            let stored = try SQLiteEventStore.insert(matches, into: db).records
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let new = Set(stored.map(\.eventID))
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO action_jobs (rule, match_event_id, action, idempotency_key, payload, state, attempts, created_at, next_attempt_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING
                    """)
            for job in jobs where new.contains(job.matchEventID) {
                let action = String(decoding: try JSONEncoder().encode(job.action), as: UTF8.self)
                try statement.execute(arguments: [job.rule, job.matchEventID, action, job.idempotencyKey, job.payload, now, now])
            }
            guard let position else { return stored }
            try db.execute(
                sql: """
                    INSERT INTO rule_position (id, row, snapshot, saved_at) VALUES (1, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET row = excluded.row, snapshot = excluded.snapshot, saved_at = excluded.saved_at
                    """, arguments: [position.row, position.snapshot, now])
            return stored
        }
    }

    static let columns = "id, rule, match_event_id, action, idempotency_key, payload, state, attempts, created_at, next_attempt_at, last_error"

    static func job(_ row: Row) throws -> ActionJob {
        ActionJob(
            id: row[0], rule: row[1], matchEventID: row[2], action: try JSONDecoder().decode(RuleAction.self, from: Data((row[3] as String).utf8)),
            idempotencyKey: row[4], payload: row[5], state: ActionJob.State(rawValue: row[6]) ?? .failed, attempts: row[7], createdAt: row[8],
            nextAttemptAt: row[9], lastError: row[10])
    }

    func dueJobs(now: Int64, limit: Int) async throws -> [ActionJob] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.columns) FROM action_jobs WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                arguments: [now, limit]
            ).map(Self.job)
        }
    }

    func nextDue() async throws -> Int64? {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM action_jobs WHERE state = 'pending'") }
    }

    func finish(_ job: ActionJob, update: ActionJob.Update, record: StoredRecord) async throws -> [StoredRecord] {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE action_jobs SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                arguments: [update.state.rawValue, update.attempts, update.nextAttemptAt, update.lastError, job.id])
            return try SQLiteEventStore.insert([record], into: db).records
        }
    }

    func jobs(in state: ActionJob.State?, limit: Int) async throws -> [ActionJob] {
        try await pool.read { db in
            if let state {
                return try Row.fetchAll(
                    db, sql: "SELECT \(Self.columns) FROM action_jobs WHERE state = ? ORDER BY id DESC LIMIT ?", arguments: [state.rawValue, limit]
                ).map(Self.job)
            }
            return try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM action_jobs ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.job)
        }
    }

    func retry(jobID: Int64, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE action_jobs SET state = 'pending', attempts = 0, created_at = ?, next_attempt_at = ? WHERE id = ? AND state = 'failed'",
                arguments: [now, now, jobID])
            return db.changesCount == 1
        }
    }
}
