// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import TrailCore

/// The archive's bookkeeping in the SQLite store's database (tables `log_files`, `digests`,
/// `signing_keys` and `events.log_file`, migration `v4-archive`), so that claiming events for a
/// log file and remembering the claim are one transaction.
struct SQLiteArchiveLedger: ArchiveLedger {
    let pool: DatabasePool

    // MARK: - Log files

    /// Claims up to `limit` events not yet in any log file for a new one named `key`; `nil` when
    /// there are none. `records` of the result is how many were claimed.
    func claimLogFile(key: String, kind: ArchiveLayout.LogKind, deliveredAt: Int64, limit: Int) async throws -> ArchiveLogFile? {
        let unclaimed: SQL = "log_file IS NULL AND (event_category = 'Insight') = \(kind == .insights)"
        return try await pool.write { db in
            guard try SQLRequest<Bool>(literal: "SELECT EXISTS (SELECT 1 FROM events WHERE \(unclaimed))").fetchOne(db) == true else { return nil }
            try db.execute(literal: "INSERT INTO log_files (key, delivered_at) VALUES (\(key), \(deliveredAt))")
            let id = db.lastInsertedRowID
            try db.execute(
                literal:
                    "UPDATE events SET log_file = \(id) WHERE rowid IN (SELECT rowid FROM events WHERE \(unclaimed) ORDER BY rowid LIMIT \(limit))"
            )
            return ArchiveLogFile(id: id, key: key, records: db.changesCount)
        }
    }

    /// Both halves follow an index in rowid (arrival) order, so this stays quick however far
    /// behind the archive is.
    func oldestUnarchivedReceivedAt() async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(t) FROM (
                        SELECT (SELECT received_at FROM events WHERE log_file IS NULL ORDER BY rowid LIMIT 1) AS t
                        UNION ALL
                        SELECT (SELECT received_at FROM events WHERE log_file = log_files.id ORDER BY rowid LIMIT 1)
                            FROM log_files WHERE sha256 IS NULL)
                    """)
        }
    }

    /// Claims not yet written (after a crash).
    func unwrittenLogFiles() async throws -> [ArchiveLogFile] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, key FROM log_files WHERE sha256 IS NULL ORDER BY id").map { ArchiveLogFile(id: $0[0], key: $0[1]) }
        }
    }

    /// The claimed events' canonical JSON and time (ms), in the order they were stored.
    func records(inLogFile id: Int64) async throws -> [(eventTime: Int64, json: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT event_time, record FROM events WHERE log_file = ? ORDER BY rowid", arguments: [id]).map {
                (eventTime: $0[0] as Int64, json: $0[1] as String)
            }
        }
    }

    func logFileWritten(id: Int64, sha256: String, oldestEventTime: Int64, newestEventTime: Int64, records: Int) async throws {
        try await pool.write { db in
            try db.execute(
                literal: """
                    UPDATE log_files SET sha256 = \(sha256), oldest_event_time = \(oldestEventTime), newest_event_time = \(newestEventTime),
                    records = \(records) WHERE id = \(id)
                    """)
        }
    }

    // MARK: - Digests

    /// Creates the next digest in one transaction: `make` gets the previous digest (`nil` for
    /// the first) and every written log file no digest lists yet, and returns the signed digest;
    /// it is stored, and the log files are marked as listed by it.
    func createDigest(_ make: @escaping @Sendable (_ previous: ArchiveDigest?, _ logFiles: [ArchiveLogFile]) throws -> ArchiveDigest) async throws
        -> ArchiveDigest
    {
        try await pool.write { db in
            let previous = try Row.fetchOne(
                db, sql: "SELECT id, key, start_time, end_time, json, sha256, signature, fingerprint FROM digests ORDER BY id DESC LIMIT 1"
            ).map(Self.digest)
            let files = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, key, sha256, oldest_event_time, newest_event_time, records FROM log_files
                    WHERE digest IS NULL AND sha256 IS NOT NULL ORDER BY id
                    """
            ).map { ArchiveLogFile(id: $0[0], key: $0[1], sha256: $0[2], oldestEventTime: $0[3], newestEventTime: $0[4], records: $0[5]) }
            var digest = try make(previous, files)
            try db.execute(
                literal: """
                    INSERT INTO digests (key, start_time, end_time, json, sha256, signature, fingerprint)
                    VALUES (\(digest.key), \(digest.startTime), \(digest.endTime), \(digest.json), \(digest.sha256), \(digest.signature), \(digest.fingerprint))
                    """)
            digest.id = db.lastInsertedRowID
            for file in files {
                try db.execute(literal: "UPDATE log_files SET digest = \(digest.id) WHERE id = \(file.id)")
            }
            return digest
        }
    }

    /// The newest digest, if any.
    func lastDigest() async throws -> ArchiveDigest? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, key, start_time, end_time, json, sha256, signature, fingerprint FROM digests ORDER BY id DESC LIMIT 1"
            )
            .map(Self.digest)
        }
    }

    /// Digests stored but whose file is not written yet (after a crash).
    func unwrittenDigests() async throws -> [ArchiveDigest] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, key, start_time, end_time, json, sha256, signature, fingerprint FROM digests WHERE written = 0 ORDER BY id"
            ).map(Self.digest)
        }
    }

    func digestWritten(id: Int64) async throws {
        try await pool.write { db in try db.execute(literal: "UPDATE digests SET written = 1 WHERE id = \(id)") }
    }

    static func digest(_ row: Row) -> ArchiveDigest {
        ArchiveDigest(
            id: row[0], key: row[1], startTime: row[2], endTime: row[3], json: row[4], sha256: row[5], signature: row[6], fingerprint: row[7])
    }

    // MARK: - Upload to a bucket

    /// What is written but not uploaded yet, in the order to upload it: every log file before
    /// the digest that lists it.
    func pendingUploads(limit: Int) async throws -> [ArchiveUpload] {
        try await pool.read { db in
            let files = try Row.fetchAll(
                db, sql: "SELECT id, key FROM log_files WHERE sha256 IS NOT NULL AND uploaded = 0 ORDER BY id LIMIT ?", arguments: [limit]
            ).map { ArchiveUpload(kind: .logFile, id: $0[0], key: $0[1], signature: nil) }
            // A digest goes up only once none of its log files is waiting.
            let digests = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, key, signature FROM digests WHERE written = 1 AND uploaded = 0
                    AND NOT EXISTS (SELECT 1 FROM log_files WHERE log_files.digest = digests.id AND uploaded = 0)
                    ORDER BY id LIMIT ?
                    """, arguments: [limit]
            ).map { ArchiveUpload(kind: .digest, id: $0[0], key: $0[1], signature: $0[2]) }
            return files + digests
        }
    }

    func uploaded(_ upload: ArchiveUpload) async throws {
        try await pool.write { db in
            switch upload.kind {
            case .logFile: try db.execute(literal: "UPDATE log_files SET uploaded = 1 WHERE id = \(upload.id)")
            case .digest: try db.execute(literal: "UPDATE digests SET uploaded = 1 WHERE id = \(upload.id)")
            }
        }
    }

    // MARK: - Signing keys

    /// Makes `key` the current signing key from `now` (epoch seconds); the one before stays
    /// listed, valid until now.
    func useSigningKey(fingerprint: String, der: Data, now: Int64) throws {
        try pool.write { db in
            let current = try String.fetchOne(db, sql: "SELECT fingerprint FROM signing_keys WHERE valid_until IS NULL")
            guard current != fingerprint else { return }
            try db.execute(sql: "UPDATE signing_keys SET valid_until = ? WHERE valid_until IS NULL", arguments: [now])
            // A key used before, then replaced and now back: valid again from now.
            try db.execute(
                sql:
                    "INSERT INTO signing_keys (fingerprint, public_key, valid_from) VALUES (?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET valid_until = NULL",
                arguments: [fingerprint, der, now])
        }
    }

    /// Keys that were valid at some time in `[start, end]` (epoch seconds), oldest first.
    func publicKeys(start: Int64, end: Int64) async throws -> [SigningPublicKey] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT fingerprint, public_key, valid_from, valid_until FROM signing_keys WHERE valid_from <= ? AND (valid_until IS NULL OR valid_until >= ?) ORDER BY valid_from",
                arguments: [end, start]
            ).map { SigningPublicKey(fingerprint: $0[0], der: $0[1], validFrom: $0[2], validUntil: $0[3]) }
        }
    }
}
