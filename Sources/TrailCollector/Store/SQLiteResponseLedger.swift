// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import TrailCore

/// ``ResponseLedger`` in the SQLite store (tables `response_requests` and `response_hosts`,
/// migration `v7-responses`).
struct SQLiteResponseLedger: ResponseLedger {
    let pool: DatabasePool

    func hosts() async throws -> [ResponseHost] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT host, responses, last_seen FROM response_hosts ORDER BY host").map {
                ResponseHost(host: $0[0], responses: ($0[1] as String).split(separator: ",").map(String.init), lastSeen: $0[2])
            }
        }
    }

    func queue(_ requests: [QueuedResponse], records: [StoredRecord], job: ActionJob, update: ActionJob.Update, invoked: StoredRecord)
        async throws -> [StoredRecord]
    {
        try await pool.write { db in
            for queued in requests { try Self.insert(queued, into: db) }
            try db.execute(
                sql: "UPDATE action_jobs SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                arguments: [update.state.rawValue, update.attempts, update.nextAttemptAt, update.lastError, job.id])
            return try SQLiteEventStore.insert(records + [invoked], into: db).records
        }
    }

    static func insert(_ queued: QueuedResponse, into db: Database) throws {
        let json = String(decoding: try JSONEncoder().encode(queued.request), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO response_requests (id, response_group, host, request, state, deliveries, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(id) DO NOTHING
                """, arguments: [queued.request.id, queued.group, queued.host, json, queued.state.rawValue, queued.createdAt, queued.updatedAt])
    }

    func exchange(host: String, poll: ResponsePoll, now: Int64) async throws -> [ResponseRequest] {
        try await pool.write { db in
            for ack in poll.acks {
                let outcome = ack.outcome
                // A host acknowledges only its own requests; a revert's success marks what it undid.
                try db.execute(
                    sql: """
                        UPDATE response_requests SET state = ?, error_code = ?, message = ?, expires_at = ?, updated_at = ?
                        WHERE id = ? AND host = ?
                        """,
                    arguments: [outcome.state.rawValue, outcome.errorCode, outcome.message, outcome.expiresAt, now, ack.id, host])
                if outcome.state == .performed, ack.id.hasSuffix(Self.revertSuffix) {
                    try db.execute(
                        sql: "UPDATE response_requests SET state = 'reverted', updated_at = ? WHERE id = ? AND host = ? AND state = 'performed'",
                        arguments: [now, String(ack.id.dropLast(Self.revertSuffix.count)), host])
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO response_hosts (host, responses, first_seen, last_seen) VALUES (?, ?, ?, ?)
                    ON CONFLICT(host) DO UPDATE SET responses = excluded.responses, last_seen = excluded.last_seen
                    """, arguments: [host, poll.responses.joined(separator: ","), now, now])
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT id, request FROM response_requests WHERE host = ? AND state IN ('queued', 'delivered') ORDER BY created_at, id LIMIT 100",
                arguments: [host])
            for row in rows {
                try db.execute(
                    sql: "UPDATE response_requests SET state = 'delivered', deliveries = deliveries + 1, updated_at = ? WHERE id = ?",
                    arguments: [now, row[0] as String])
            }
            return try rows.map { try JSONDecoder().decode(ResponseRequest.self, from: Data(($0[1] as String).utf8)) }
        }
    }

    static let revertSuffix = "/revert"
    static let columns = "id, response_group, host, request, state, deliveries, error_code, message, expires_at, created_at, updated_at"

    static func queued(_ row: Row) throws -> QueuedResponse {
        var queued = QueuedResponse(
            request: try JSONDecoder().decode(ResponseRequest.self, from: Data((row[3] as String).utf8)), group: row[1], host: row[2], now: row[9])
        queued.state = QueuedResponse.State(rawValue: row[4]) ?? .failed
        queued.deliveries = row[5]
        queued.errorCode = row[6]
        queued.message = row[7]
        queued.expiresAt = row[8]
        queued.updatedAt = row[10]
        return queued
    }

    func requests(active: Bool, limit: Int) async throws -> [QueuedResponse] {
        try await pool.read { db in
            let filter = active ? "WHERE state IN ('queued', 'delivered', 'performed') AND id NOT LIKE '%/revert'" : ""
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM response_requests \(filter) ORDER BY created_at DESC, id LIMIT ?", arguments: [limit]
            ).map(Self.queued)
        }
    }

    func revert(id: String, now: Int64) async throws -> (queued: [QueuedResponse], cancelled: Int)? {
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM response_requests WHERE (id = ? OR response_group = ?) AND id NOT LIKE '%/revert'",
                arguments: [id, id])
            guard !rows.isEmpty else { return nil }
            var queued: [QueuedResponse] = []
            var cancelled = 0
            for original in try rows.map(Self.queued) {
                switch original.state {
                case .queued:
                    try db.execute(
                        sql: "UPDATE response_requests SET state = 'cancelled', updated_at = ? WHERE id = ?", arguments: [now, original.request.id])
                    cancelled += 1
                case .delivered, .performed:
                    var request = original.request
                    request.id += Self.revertSuffix
                    request.reverts = original.request.id
                    request.deadline = now + 86_400
                    let revert = QueuedResponse(request: request, group: original.group, host: original.host, now: now)
                    try Self.insert(revert, into: db)
                    if db.changesCount == 1 { queued.append(revert) }
                default:
                    continue
                }
            }
            return (queued, cancelled)
        }
    }
}
