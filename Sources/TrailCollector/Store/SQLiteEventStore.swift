// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import TrailCore

/// The embedded store: one SQLite database in WAL mode through GRDB, schema by migrations.
///
/// `(host, eventID)` is the primary key, so a record sent twice (an agent retrying after a lost
/// reply) is stored once, and another host cannot take an ID first; the insert and the duplicate
/// check are one statement in one transaction.
public final class SQLiteEventStore: EventStore {
    let pool: DatabasePool
    public let path: String
    /// With the archive on, retention deletes only events already written to a log file.
    let archiving: Bool

    /// Opens (creating and migrating) the store at `path`.
    public init(path: String, archiving: Bool = false) throws {
        self.path = path
        self.archiving = archiving
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // In WAL mode NORMAL keeps every committed transaction across a process crash;
            // only a power loss can lose the last ones (sqlite.org/pragma.html#pragma_synchronous).
            // The collector promises durability on 200, so FULL: commits survive power loss too.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw CollectorError(.storeUnavailable, "cannot open the event store", context: path, underlyingError: error)
        }
    }

    public var archiveLedger: any ArchiveLedger { SQLiteArchiveLedger(pool: pool) }

    public var ruleLedger: any RuleLedger { SQLiteRuleLedger(pool: pool) }
    public var responseLedger: any ResponseLedger { SQLiteResponseLedger(pool: pool) }

    /// The schema steps an existing store at `path` has yet to run (none for a new one: creating
    /// the newest schema is quick). The collector tells systemd while they run.
    public static func pendingMigrations(path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let applied = try DatabaseQueue(path: path).read { db in try migrator.appliedIdentifiers(db) }
            return applied.isEmpty ? [] : migrator.migrations.filter { !applied.contains($0) }
        } catch {
            throw CollectorError(.storeUnavailable, "cannot read the event store's schema version", context: path, underlyingError: error)
        }
    }

    /// Schema history; each step runs once, in order, and is never edited after release.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        event_id TEXT NOT NULL PRIMARY KEY,
                        event_time INTEGER NOT NULL,
                        event_name TEXT NOT NULL,
                        event_source TEXT NOT NULL,
                        username TEXT,
                        host TEXT NOT NULL,
                        source_ip TEXT,
                        read_only INTEGER,
                        access_key_id TEXT,
                        event_category TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        record TEXT NOT NULL
                    );
                    CREATE INDEX events_by_time ON events(event_time, event_id);
                    CREATE INDEX events_by_name ON events(event_name, event_time);
                    CREATE INDEX events_by_source ON events(event_source, event_time);
                    CREATE INDEX events_by_user ON events(username, event_time);
                    CREATE INDEX events_by_host ON events(host, event_time);
                    """)
        }
        // Username lookups match the invoking user of sudo and su as well.
        migrator.registerMigration("v2-invoking-user") { db in
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN invoking_user TEXT;
                    UPDATE events SET invoking_user = json_extract(record, '$.userIdentity.sessionContext.sessionIssuer.userName');
                    CREATE INDEX events_by_invoker ON events(invoking_user, event_time);
                    """)
        }
        // ResourceType/ResourceName lookups through an index instead of reading every record's JSON;
        // SourceIPAddress and AccessKeyId through theirs. Resources go with their event (cascade).
        migrator.registerMigration("v3-lookup-indexes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE event_resources (
                        event_id TEXT NOT NULL REFERENCES events(event_id) ON DELETE CASCADE,
                        event_time INTEGER NOT NULL,
                        type TEXT,
                        name TEXT
                    );
                    INSERT INTO event_resources (event_id, event_time, type, name)
                        SELECT events.event_id, events.event_time, json_extract(resource.value, '$.type'), json_extract(resource.value, '$.ARN')
                        FROM events, json_each(events.record, '$.resources') AS resource;
                    CREATE INDEX resources_by_event ON event_resources(event_id);
                    CREATE INDEX resources_by_name ON event_resources(name, event_time, event_id);
                    CREATE INDEX resources_by_type ON event_resources(type, event_time, event_id);
                    CREATE INDEX events_by_source_ip ON events(source_ip, event_time);
                    CREATE INDEX events_by_access_key ON events(access_key_id, event_time);
                    """)
        }
        // The archive: each event is claimed by exactly one log file (`log_file`), log files by one
        // digest; what was claimed but not yet written is rewritten after a crash, same name.
        migrator.registerMigration("v4-archive") { db in
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN log_file INTEGER;
                    CREATE INDEX events_by_log_file ON events(log_file);
                    CREATE TABLE log_files (
                        id INTEGER PRIMARY KEY,
                        key TEXT NOT NULL UNIQUE,
                        delivered_at INTEGER NOT NULL,
                        sha256 TEXT,
                        oldest_event_time INTEGER,
                        newest_event_time INTEGER,
                        records INTEGER,
                        digest INTEGER,
                        uploaded INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX log_files_undigested ON log_files(digest) WHERE digest IS NULL;
                    CREATE TABLE digests (
                        id INTEGER PRIMARY KEY,
                        key TEXT NOT NULL UNIQUE,
                        start_time INTEGER NOT NULL,
                        end_time INTEGER NOT NULL,
                        json BLOB NOT NULL,
                        sha256 TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        written INTEGER NOT NULL DEFAULT 0,
                        uploaded INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE signing_keys (
                        fingerprint TEXT NOT NULL PRIMARY KEY,
                        public_key BLOB NOT NULL,
                        valid_from INTEGER NOT NULL,
                        valid_until INTEGER
                    );
                    """)
        }
        // An event ID is unique per host, not across the fleet: the IDs derive from machine IDs,
        // which every record shows, so one host could store another's next ID first and have the
        // real record answered as a duplicate. The tables are rebuilt with (host, event_id) keys,
        // keeping every row's rowid (the archive claims events in rowid order).
        migrator.registerMigration("v5-host-event-id") { db in
            try db.execute(
                sql: """
                    CREATE TABLE resources_copy AS SELECT r.event_id, e.host, r.event_time, r.type, r.name
                        FROM event_resources AS r JOIN events AS e ON e.event_id = r.event_id;
                    DROP TABLE event_resources;
                    CREATE TABLE events_v5 (
                        event_id TEXT NOT NULL,
                        event_time INTEGER NOT NULL,
                        event_name TEXT NOT NULL,
                        event_source TEXT NOT NULL,
                        username TEXT,
                        host TEXT NOT NULL,
                        source_ip TEXT,
                        read_only INTEGER,
                        access_key_id TEXT,
                        event_category TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        invoking_user TEXT,
                        log_file INTEGER,
                        PRIMARY KEY (host, event_id)
                    );
                    INSERT INTO events_v5 (rowid, event_id, event_time, event_name, event_source, username, host, source_ip, read_only,
                            access_key_id, event_category, received_at, record, invoking_user, log_file)
                        SELECT rowid, event_id, event_time, event_name, event_source, username, host, source_ip, read_only,
                            access_key_id, event_category, received_at, record, invoking_user, log_file FROM events ORDER BY rowid;
                    DROP TABLE events;
                    ALTER TABLE events_v5 RENAME TO events;
                    CREATE INDEX events_by_event_id ON events(event_id);
                    CREATE INDEX events_by_time ON events(event_time, event_id, host);
                    CREATE INDEX events_by_name ON events(event_name, event_time);
                    CREATE INDEX events_by_source ON events(event_source, event_time);
                    CREATE INDEX events_by_user ON events(username, event_time);
                    CREATE INDEX events_by_host ON events(host, event_time);
                    CREATE INDEX events_by_invoker ON events(invoking_user, event_time);
                    CREATE INDEX events_by_source_ip ON events(source_ip, event_time);
                    CREATE INDEX events_by_access_key ON events(access_key_id, event_time);
                    CREATE INDEX events_by_log_file ON events(log_file);
                    CREATE TABLE event_resources (
                        event_id TEXT NOT NULL,
                        host TEXT NOT NULL,
                        event_time INTEGER NOT NULL,
                        type TEXT,
                        name TEXT,
                        FOREIGN KEY (host, event_id) REFERENCES events(host, event_id) ON DELETE CASCADE
                    );
                    INSERT INTO event_resources SELECT event_id, host, event_time, type, name FROM resources_copy;
                    DROP TABLE resources_copy;
                    CREATE INDEX resources_by_event ON event_resources(host, event_id);
                    CREATE INDEX resources_by_name ON event_resources(name, event_time, event_id, host);
                    CREATE INDEX resources_by_type ON event_resources(type, event_time, event_id, host);
                    """)
        }
        // Rules: where evaluation stands (one row) and the action jobs, queued with their match.
        migrator.registerMigration("v6-rules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rule_position (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        row INTEGER NOT NULL,
                        snapshot BLOB,
                        saved_at INTEGER NOT NULL
                    );
                    CREATE TABLE action_jobs (
                        id INTEGER PRIMARY KEY,
                        rule TEXT NOT NULL,
                        match_event_id TEXT NOT NULL,
                        action TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        payload TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT
                    );
                    CREATE INDEX action_jobs_due ON action_jobs(next_attempt_at) WHERE state = 'pending';
                    CREATE INDEX action_jobs_by_state ON action_jobs(state, id);
                    """)
        }
        migrator.registerMigration("v7-responses") { db in
            try db.execute(
                sql: """
                    CREATE TABLE response_requests (
                        id TEXT PRIMARY KEY,
                        response_group TEXT NOT NULL,
                        host TEXT NOT NULL,
                        request TEXT NOT NULL,
                        state TEXT NOT NULL,
                        deliveries INTEGER NOT NULL,
                        error_code TEXT,
                        message TEXT,
                        expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX response_requests_waiting ON response_requests(host, created_at) WHERE state IN ('queued', 'delivered');
                    CREATE INDEX response_requests_group ON response_requests(response_group);
                    CREATE INDEX response_requests_recent ON response_requests(created_at);
                    CREATE TABLE response_hosts (
                        host TEXT PRIMARY KEY,
                        responses TEXT NOT NULL,
                        first_seen INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v8-hosts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE hosts (
                        host TEXT PRIMARY KEY,
                        first_received_at INTEGER NOT NULL,
                        last_received_at INTEGER NOT NULL,
                        newest_event_time INTEGER NOT NULL,
                        records_received INTEGER NOT NULL,
                        heartbeat TEXT,
                        heartbeat_time INTEGER
                    );
                    INSERT INTO hosts (host, first_received_at, last_received_at, newest_event_time, records_received)
                        SELECT host, min(event_time), max(event_time), max(event_time), count(*) FROM events INDEXED BY events_by_host
                        WHERE host != 'collector' GROUP BY host;
                    UPDATE hosts SET (heartbeat_time, heartbeat) = (
                        SELECT e.event_time, e.record FROM events e INDEXED BY events_by_host
                        WHERE e.host = hosts.host AND e.event_source = 'agent.hosttrail' AND e.event_name = 'Heartbeat'
                        ORDER BY e.event_time DESC LIMIT 1)
                    WHERE EXISTS (SELECT 1 FROM events INDEXED BY events_by_name WHERE event_name = 'Heartbeat');
                    """)
        }
        return migrator
    }

    public func store(
        _ records: [StoredRecord], collisionAlert: (@Sendable (EventIDCollision) -> StoredRecord?)?
    ) async throws -> StoredBatch {
        try await pool.write { db in
            let stored = try Self.insert(records, into: db, collisionAlert: collisionAlert)
            return StoredBatch(result: IngestResult(accepted: stored.accepted, duplicates: records.count - stored.accepted), stored: stored.records)
        }
    }

    /// Inserts within the caller's transaction; returns how many were new, and the new records
    /// followed by the alerts. With
    /// `collisionAlert`, each ID stored by another host too, or again by its host with other
    /// content, adds the alert record it makes (in the same transaction).
    static func insert(
        _ records: [StoredRecord], into db: Database, collisionAlert: (@Sendable (EventIDCollision) -> StoredRecord?)? = nil
    ) throws -> (accepted: Int, records: [StoredRecord]) {
        let receivedAt = Int64(Date().timeIntervalSince1970 * 1000)
        var accepted = 0
        var stored: [StoredRecord] = []
        var alerts: [StoredRecord] = []
        let resources = try db.cachedStatement(sql: "INSERT INTO event_resources (event_id, host, event_time, type, name) VALUES (?, ?, ?, ?, ?)")
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO events (event_id, event_time, event_name, event_source, username, host, source_ip,
                    read_only, access_key_id, event_category, received_at, record, invoking_user)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(host, event_id) DO NOTHING
                """)
        for record in records {
            try statement.execute(arguments: [
                record.eventID, record.eventTime, record.eventName, record.eventSource, record.userName, record.host,
                record.sourceIPAddress, record.readOnly, record.accessKeyID, record.eventCategory, receivedAt, record.json,
                record.invokingUser,
            ])
            let isNew = db.changesCount == 1
            if isNew {
                accepted += 1
                stored.append(record)
                for resource in record.resources {
                    try resources.execute(arguments: [record.eventID, record.host, record.eventTime, resource.type, resource.name])
                }
            }
            guard let collisionAlert else { continue }
            if isNew {
                let others = try String.fetchAll(
                    db, sql: "SELECT DISTINCT host FROM events WHERE event_id = ? AND host != ?", arguments: [record.eventID, record.host])
                if !others.isEmpty,
                    let alert = collisionAlert(
                        .init(
                            eventID: record.eventID, host: record.host, otherHosts: others.sorted(), otherContent: false,
                            contentHash: ContentFingerprint.of(Array(record.json.utf8))))
                {
                    alerts.append(alert)
                }
            } else if let existing = try String.fetchOne(
                db, sql: "SELECT record FROM events WHERE host = ? AND event_id = ?", arguments: [record.host, record.eventID]),
                existing != record.json,
                let alert = collisionAlert(
                    .init(
                        eventID: record.eventID, host: record.host, otherHosts: [], otherContent: true,
                        contentHash: ContentFingerprint.of(Array(record.json.utf8))))
            {
                alerts.append(alert)
            }
        }
        try noteHosts(stored, receivedAt: receivedAt, in: db)
        if !alerts.isEmpty { stored += try insert(alerts, into: db).records }
        return (accepted, stored)
    }

    /// How far ahead of the collector's clock a host's event time is believed (ms).
    static let maxClockSkew: Int64 = 300_000

    /// Keeps `hosts` up to date with newly stored records, in their transaction: one row a host
    /// (not the collector's own), its newest heartbeat kept whole.
    static func noteHosts(_ records: [StoredRecord], receivedAt: Int64, in db: Database) throws {
        var byHost: [String: (count: Int64, newest: Int64, heartbeat: StoredRecord?)] = [:]
        // Insights are stored under the host they are about but are the collector's words, not the
        // host's: a HostSilent must not make a silent host look alive. An event time past the
        // receipt (a fast clock, a forged time) counts as the receipt's.
        for record in records where record.host != RecordBinder.collectorHost && record.eventCategory != "Insight" {
            var entry = byHost[record.host] ?? (0, .min, nil)
            entry.count += 1
            entry.newest = max(entry.newest, min(record.eventTime, receivedAt + maxClockSkew))
            if record.eventSource == AgentRecordBuilder.eventSource, record.eventName == AgentRecordBuilder.heartbeatEventName,
                entry.heartbeat.map({ $0.eventTime <= record.eventTime }) ?? true
            {
                entry.heartbeat = record
            }
            byHost[record.host] = entry
        }
        guard !byHost.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO hosts (host, first_received_at, last_received_at, newest_event_time, records_received, heartbeat, heartbeat_time)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(host) DO UPDATE SET
                    last_received_at = excluded.last_received_at,
                    newest_event_time = max(newest_event_time, excluded.newest_event_time),
                    records_received = records_received + excluded.records_received,
                    heartbeat = CASE WHEN excluded.heartbeat_time >= coalesce(heartbeat_time, excluded.heartbeat_time)
                        THEN excluded.heartbeat ELSE heartbeat END,
                    heartbeat_time = max(coalesce(heartbeat_time, excluded.heartbeat_time), coalesce(excluded.heartbeat_time, heartbeat_time))
                """)
        for (host, entry) in byHost {
            try statement.execute(arguments: [
                host, receivedAt, receivedAt, entry.newest, entry.count, entry.heartbeat?.json,
                entry.heartbeat.map { min($0.eventTime, receivedAt + maxClockSkew) },
            ])
        }
    }

    public func hostStatuses() async throws -> [HostStatus] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT host, first_received_at, last_received_at, newest_event_time, records_received, heartbeat, heartbeat_time
                    FROM hosts ORDER BY host
                    """
            ).map {
                HostStatus(
                    host: $0[0], firstReceivedAt: $0[1], lastReceivedAt: $0[2], newestEventTime: $0[3], recordsReceived: $0[4], heartbeat: $0[5],
                    heartbeatTime: $0[6])
            }
        }
    }

    /// Builds one SQL statement per lookup, shaped so that SQLite walks one index in time order and
    /// stops after a page, whatever the values' frequencies (there are no statistics to plan by):
    /// a resource filter drives from `event_resources(type|name, event_time)`; `Username` (the user
    /// or, for sudo and su, the invoker) is two index walks merged; everything else is a filter on
    /// `events` walked by its best index or by time.
    public func lookup(_ query: EventQuery) async throws -> EventPage {
        // GRDB's SQL interpolation: each value is bound where it is written; names and keywords
        // are `SQL` fragments, never values.
        var clauses: [SQL] = []
        var user: String?
        var resource: (column: SQL, value: String)?
        for filter in query.filters {
            let value = filter.attributeValue
            switch LookupAttributeKey(rawValue: filter.attributeKey) {
            case .eventId: clauses.append("events.event_id = \(value.lowercased())")
            case .eventName: clauses.append("events.event_name = \(value)")
            case .eventSource: clauses.append("events.event_source = \(value)")
            case .username where user == nil: user = value
            case .username: clauses.append("(events.username = \(value) OR events.invoking_user = \(value))")
            case .host: clauses.append("events.host = \(value)")
            case .sourceIPAddress: clauses.append("events.source_ip = \(value)")
            case .accessKeyId: clauses.append("events.access_key_id = \(value)")
            case .readOnly: clauses.append("events.read_only = \(value == "true")")
            case .resourceType where resource == nil: resource = ("type", value)
            case .resourceName where resource == nil: resource = ("name", value)
            case .resourceType:
                clauses.append("(events.host, events.event_id) IN (SELECT host, event_id FROM event_resources WHERE type = \(value))")
            case .resourceName:
                clauses.append("(events.host, events.event_id) IN (SELECT host, event_id FROM event_resources WHERE name = \(value))")
            case nil:
                continue  // rejected before it gets here
            }
        }
        if let hosts = query.hosts { clauses.append("events.host IN \(hosts)") }
        if let sources = query.eventSources { clauses.append("events.event_source IN \(sources)") }
        clauses.append(query.insights ? "events.event_category = 'Insight'" : "events.event_category != 'Insight'")
        // Time bounds and the page cursor on the table that drives the walk, so its index range is used.
        let driver: SQL = resource == nil ? "events" : "r"
        if let start = query.startTime { clauses.append("\(driver).event_time >= \(start)") }
        if let end = query.endTime { clauses.append("\(driver).event_time <= \(end)") }
        if let after = query.after {
            if let host = after.host {
                clauses.append("(\(driver).event_time, \(driver).event_id, \(driver).host) < (\(after.time), \(after.eventID), \(host))")
            } else {
                clauses.append("(\(driver).event_time, \(driver).event_id) < (\(after.time), \(after.eventID))")
            }
        }
        let limit = query.limit + 1
        let sql: SQL
        if let resource {
            if let user { clauses.append("(events.username = \(user) OR events.invoking_user = \(user))") }
            sql = """
                SELECT DISTINCT events.event_time, events.event_id, events.host, events.record
                FROM event_resources AS r CROSS JOIN events ON events.host = r.host AND events.event_id = r.event_id
                WHERE r.\(resource.column) = \(resource.value) AND \(clauses.joined(separator: " AND "))
                ORDER BY r.event_time DESC, r.event_id DESC, r.host DESC
                LIMIT \(limit)
                """
        } else if let user {
            let filter = clauses.joined(separator: " AND ")
            func branch(_ column: SQL) -> SQL {
                """
                SELECT * FROM (SELECT events.event_time, events.event_id, events.host, events.record FROM events
                    WHERE events.\(column) = \(user) AND \(filter)
                    ORDER BY events.event_time DESC, events.event_id DESC, events.host DESC LIMIT \(limit))
                """
            }
            sql = "\(branch("username")) UNION \(branch("invoking_user")) ORDER BY 1 DESC, 2 DESC, 3 DESC LIMIT \(limit)"
        } else {
            sql = """
                SELECT events.event_time, events.event_id, events.host, events.record FROM events
                WHERE \(clauses.joined(separator: " AND "))
                ORDER BY events.event_time DESC, events.event_id DESC, events.host DESC
                LIMIT \(limit)
                """
        }
        return try await pool.read { db in
            // Row by row: the page stops at its count or its byte budget, and SQLite reads no
            // record past the one that tells whether there is more.
            let cursor = try Row.fetchCursor(db, SQLRequest<Row>(literal: sql))
            var page = EventPage(records: [], hasMore: false)
            var bytes = 0
            while let row = try cursor.next() {
                if page.records.count == query.limit || bytes >= EventPage.maxBytes {
                    page.hasMore = true
                    break
                }
                let json = row[3] as String
                bytes += json.utf8.count
                page.records.append((eventTime: row[0] as Int64, eventID: row[1] as String, host: row[2] as String, json: json))
            }
            return page
        }
    }

    public func deleteOlderThan(
        _ cutoff: Int64, limit: Int, recordedAs summary: @escaping @Sendable (_ deleted: Int, _ oldest: Int64, _ newest: Int64) throws -> StoredRecord
    ) async throws -> Int {
        try await pool.write { db in
            let range = try Row.fetchOne(
                db,
                sql:
                    "SELECT min(event_time), max(event_time), count(*) FROM (SELECT event_time FROM events WHERE event_time < ? AND \(archivedClause) ORDER BY event_time LIMIT ?)",
                arguments: [cutoff, limit])
            guard let range, (range[2] as Int) > 0, let oldest = range[0] as Int64?, let newest = range[1] as Int64? else { return 0 }
            try db.execute(
                sql:
                    "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE event_time < ? AND \(archivedClause) ORDER BY event_time LIMIT ?)",
                arguments: [cutoff, limit])
            let deleted = db.changesCount
            // In the same transaction: no crash can delete events without the record saying so.
            _ = try Self.insert([try summary(deleted, oldest, newest)], into: db)
            return deleted
        }
    }

    /// An event the archive has not written yet is kept past its retention until it is.
    var archivedClause: String {
        archiving ? "log_file IN (SELECT id FROM log_files WHERE sha256 IS NOT NULL)" : "1"
    }

    /// Takes the write lock and lets it go, writing nothing: fails when the database is read-only,
    /// locked past the busy timeout, or its file system refuses.
    public func probeWrite() async throws {
        try await pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) { .rollback }
        }
    }

    /// Records stored; for tests and `/healthz`.
    public func count() async throws -> Int {
        try await pool.read { @Sendable db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
    }
}
