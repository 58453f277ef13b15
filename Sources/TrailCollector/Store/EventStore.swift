// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// Where the collector keeps the fleet's records: SQLite by default, PostgreSQL for fleets (later).
///
/// A protocol because it is a seam: the query API and ingest do not care which store they talk
/// to (SQLite today; PostgreSQL is the second one planned).
public protocol EventStore: Sendable {
    /// Commits `records` in one transaction, skipping any its host stored under the same
    /// `eventID` already. An event ID is unique per host: another host cannot turn a record into a
    /// duplicate by storing its ID first (the IDs derive from machine IDs any record shows).
    /// With `collisionAlert`, an ID another host stored too, or one its host stored with other
    /// content, adds the alert record it makes, in the same transaction (none when it makes none:
    /// an alert that cannot be built never holds the batch back).
    ///
    /// Returns only after the commit (the collector answers `200` on that promise): the counts,
    /// and the records newly stored, in order, with any alert records the insert added.
    func store(_ records: [StoredRecord], collisionAlert: (@Sendable (EventIDCollision) -> StoredRecord?)?) async throws -> StoredBatch

    /// One page of records matching `query`, newest first.
    func lookup(_ query: EventQuery) async throws -> EventPage

    /// Deletes at most `limit` records with an event time before `cutoff` (ms since the epoch), the
    /// oldest first, and stores `summary` of what it deleted (count, oldest and newest event time),
    /// all in one short transaction; returns how many were deleted.
    func deleteOlderThan(
        _ cutoff: Int64, limit: Int, recordedAs summary: @escaping @Sendable (_ deleted: Int, _ oldest: Int64, _ newest: Int64) throws -> StoredRecord
    ) async throws -> Int

    /// The archive's bookkeeping, in this store's database: claiming events for a log file is a
    /// transaction over both.
    var archiveLedger: any ArchiveLedger { get }

    /// The rules' position and action jobs, in this store's database: a match and its jobs are
    /// one transaction.
    var ruleLedger: any RuleLedger { get }
    /// Host responses: requests queued for hosts, their outcomes, the hosts that take them.
    var responseLedger: any ResponseLedger { get }

    /// Every host that sent records: when, its newest event and heartbeat (``HostStatus``).
    func hostStatuses() async throws -> [HostStatus]

    /// What Insights count, per minute, for records with an event time in `[from, to)` (ms since
    /// the epoch): each group of records with the same minute and counted fields, in minute order.
    /// Insights themselves and the collector's own records are left out.
    func insightCounts(from: Int64, to: Int64) async throws -> [InsightCount]

    /// The five most frequent values of each of ``InsightRecordBuilder/attributes`` among the
    /// records `key` counts with an event time in `[from, to)`, most frequent first.
    func insightAttributions(of key: InsightKey, from: Int64, to: Int64) async throws -> [String: [(value: String, count: Int)]]

    /// `key`'s count in each period of `periodSeconds` in `[from, to)` that has any, in time
    /// order, periods starting at multiples of it since the epoch (seconds); only `hosts`' records
    /// when given.
    func insightSeries(of key: InsightKey, from: Int64, to: Int64, periodSeconds: Int64, hosts: [String]?) async throws -> [(
        start: Int64, count: Int
    )]
}

/// A group of stored records Insights count the same way (``EventStore/insightCounts(from:to:)``).
public struct InsightCount: Sendable, Hashable {
    /// Minutes since the epoch.
    public var minute: Int64
    public var eventSource: String
    public var eventName: String
    public var host: String
    public var userName: String?
    public var readOnly: Bool?
    public var errorCode: String?
    /// For first-seen Insights: the address and, for sudo and su, the invoking user.
    public var sourceIPAddress: String?
    public var invokingUser: String?
    public var count: Int

    /// The keys the group counts under.
    public var keys: [InsightKey] {
        InsightKey.keys(eventSource: eventSource, eventName: eventName, readOnly: readOnly, errorCode: errorCode, host: host, userName: userName)
    }
}

extension EventStore {
    /// Commits `records` (no collision alerts: the collector's own records); the counts.
    public func insert(_ records: [StoredRecord]) async throws -> IngestResult {
        try await store(records, collisionAlert: nil).result
    }
}

/// What one insert stored.
public struct StoredBatch: Sendable {
    public var result: IngestResult
    /// The records new to the store (duplicates left out), then any alert records the insert added.
    public var stored: [StoredRecord]

    public init(result: IngestResult, stored: [StoredRecord]) {
        self.result = result
        self.stored = stored
    }
}

/// One event ID under two records: another host's (`otherHosts`), or the same host's with other
/// content. The record that arrived second is the one reported; both hosts' records are kept.
public struct EventIDCollision: Sendable, Hashable {
    public var eventID: String
    /// The host whose record arrived now.
    public var host: String
    /// Hosts that stored a record under the same ID before.
    public var otherHosts: [String]
    /// The same host sent the ID again with different content (not stored).
    public var otherContent: Bool
    /// SHA-256 of the record that arrived now.
    public var contentHash: String
}

/// A record ready to store: its canonical JSON and the columns lookups filter on.
public struct StoredRecord: Sendable, Hashable {
    public var eventID: String
    /// Milliseconds since the epoch.
    public var eventTime: Int64
    public var eventName: String
    public var eventSource: String
    public var userName: String?
    /// For sudo and su: who invoked them (`sessionContext.sessionIssuer.userName`); `Username`
    /// lookups match it too.
    public var invokingUser: String?
    public var host: String
    public var sourceIPAddress: String?
    public var readOnly: Bool?
    public var accessKeyID: String?
    public var eventCategory: String
    /// Not a column: what Insights count error rates by (the store reads it from `json`).
    public var errorCode: String?
    /// `resources[].type` and `.ARN`, for `ResourceType` and `ResourceName` lookups.
    public var resources: [Resource]

    public struct Resource: Sendable, Hashable {
        public var type: String?
        public var name: String?
    }
    public var json: String

    public init(record: CloudTrailRecord, host: String) throws {
        guard let time = TrailTime.parseISO8601(record.eventTime) else {
            throw CloudTrailAPIError(type: "InvalidRecord", message: "eventTime \"\(record.eventTime)\" is not ISO 8601")
        }
        eventID = record.eventID
        eventTime = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        eventName = record.listedEventName ?? ""
        eventSource = record.listedEventSource ?? ""
        errorCode = record.errorCode
        userName = record.userNameForLookup
        invokingUser = record.userIdentity?.sessionContext?.sessionIssuer?.userName
        self.host = host
        sourceIPAddress = record.sourceIPAddress
        readOnly = record.readOnly
        accessKeyID = record.userIdentity?.accessKeyId
        eventCategory = record.eventCategory ?? "Management"
        resources = (record.resources ?? []).map { Resource(type: $0.type, name: $0.arn) }
        json = String(decoding: try record.canonicalJSON(), as: UTF8.self)
    }
}

/// What to look up: filters (ANDed), a time range, a page size and where the last page ended.
public struct EventQuery: Sendable, Hashable {
    /// The last row of the previous page. Pages are in (time, event ID, host) order, newest first:
    /// an event ID is unique per host only, and two hosts' records under one ID and time must not
    /// be split by a page boundary into one seen and one skipped.
    public struct Cursor: Sendable, Hashable {
        public var time: Int64
        public var eventID: String
        /// `nil` in a token issued before the host was part of the order.
        public var host: String?
        public init(time: Int64, eventID: String, host: String?) {
            self.time = time
            self.eventID = eventID
            self.host = host
        }
    }

    public var filters: [LookupAttribute]
    /// Inclusive bounds, milliseconds since the epoch.
    public var startTime: Int64?
    public var endTime: Int64?
    /// `true` for `EventCategory=insight`: only Insights events; otherwise none of them.
    public var insights: Bool
    public var limit: Int
    public var after: Cursor?
    /// Only records of these hosts (an access key's restriction); `nil`: all.
    public var hosts: [String]?
    /// Only records of these event sources; `nil`: all.
    public var eventSources: [String]?

    public init(
        filters: [LookupAttribute], startTime: Int64?, endTime: Int64?, insights: Bool, limit: Int, after: Cursor?, hosts: [String]? = nil,
        eventSources: [String]? = nil
    ) {
        self.hosts = hosts
        self.eventSources = eventSources
        self.filters = filters
        self.startTime = startTime
        self.endTime = endTime
        self.insights = insights
        self.limit = limit
        self.after = after
    }
}

/// A page of results and whether more follow.
public struct EventPage: Sendable {
    public var records: [(eventTime: Int64, eventID: String, host: String, json: String)]
    public var hasMore: Bool

    /// The most record bytes a page carries: it ends early (with a next page) once its records
    /// reach this, one record at least. Whatever the records hold, a page of 50 costs at most
    /// this plus one record (``CollectorConfiguration/maxRecordBytes`` for what is stored now; a
    /// record stored before that limit existed can be larger), in memory and on the wire.
    public static let maxBytes = 4 * 1024 * 1024
}
