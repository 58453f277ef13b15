// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

struct SQLiteEventStoreTests {
    @Test func duplicatesAreStoredOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let records = try (0..<3).map { try CollectorTestRecords.stored(CollectorTestRecords.record(index: $0)) }
        #expect(try await store.insert(records) == IngestResult(accepted: 3, duplicates: 0))
        #expect(try await store.insert([records[1], records[2]]) == IngestResult(accepted: 0, duplicates: 2))
        #expect(try await store.count() == 3)
    }

    @Test func theDatabaseIsInWALModeWithItsSchemaMigrated() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        _ = try SQLiteEventStore(path: directory.file("events.sqlite"))
        // Reopen: migrations run once.
        _ = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let queue = try DatabaseQueue(path: directory.file("events.sqlite"))
        let mode = try await queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let migrations = try await queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(
            migrations == [
                "v1-events", "v2-invoking-user", "v3-lookup-indexes", "v4-archive", "v5-host-event-id", "v6-rules", "v7-responses", "v8-hosts",
            ])
    }

    /// `Username` finds what a user did and what they ran as someone else (sudo, su); an access
    /// key's host and event source restrictions confine every lookup.
    @Test func usernameMatchesTheInvokingUserAndRestrictionsConfine() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        var sudo = CollectorTestRecords.record(name: "RunCommand", user: "root", time: "2026-11-24T10:00:00Z")
        sudo.eventSource = "sudo.linux"
        sudo.userIdentity?.sessionContext = SessionContext(sessionIssuer: SessionIssuer(type: UserIdentity.linuxUser, userName: "alice"))
        let own = CollectorTestRecords.record(name: "Login", user: "alice", time: "2026-11-24T10:01:00Z")
        let other = CollectorTestRecords.record(name: "Login", user: "bob", host: "web-02", time: "2026-11-24T10:02:00Z")
        _ = try await store.insert([
            try CollectorTestRecords.stored(sudo), try CollectorTestRecords.stored(own), try CollectorTestRecords.stored(other, host: "web-02"),
        ])
        func lookup(_ filters: [LookupAttribute], hosts: [String]? = nil, sources: [String]? = nil) async throws -> [String] {
            try await store.lookup(
                EventQuery(
                    filters: filters, startTime: nil, endTime: nil, insights: false, limit: 50, after: nil, hosts: hosts, eventSources: sources)
            )
            .records.map(\.eventID)
        }
        #expect(try await lookup([.init(key: .username, value: "alice")]) == [own.eventID, sudo.eventID])
        #expect(try await lookup([.init(key: .username, value: "root")]) == [sudo.eventID])
        #expect(try await lookup([], hosts: ["web-02"]) == [other.eventID])
        #expect(try await lookup([], hosts: ["web-01", "web-02"]).count == 3)
        #expect(try await lookup([.init(key: .username, value: "alice")], sources: ["sudo.linux"]) == [sudo.eventID])
        #expect(try await lookup([], hosts: ["web-03"]).isEmpty)
    }

    @Test func lookupsAreNewestFirstAndFiltersAreANDed() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        var records: [StoredRecord] = []
        for minute in 0..<10 {
            let user = minute % 2 == 0 ? "alice" : "bob"
            let name = minute < 5 ? "CreateInvoice" : "DeleteInvoice"
            records.append(
                try CollectorTestRecords.stored(
                    CollectorTestRecords.record(
                        name: name, user: user, time: "2026-11-24T10:0\(minute):00Z")))
        }
        _ = try await store.insert(records)
        let all = try await store.lookup(EventQuery(filters: [], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(all.records.count == 10)
        #expect(all.records.map(\.eventTime) == all.records.map(\.eventTime).sorted(by: >))
        let both = try await store.lookup(
            EventQuery(
                filters: [.init(key: .username, value: "alice"), .init(key: .eventName, value: "DeleteInvoice")],
                startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        // alice at minutes 6 and 8.
        #expect(both.records.count == 2)
        let ranged = try await store.lookup(
            EventQuery(
                filters: [], startTime: records[2].eventTime, endTime: records[4].eventTime, insights: false, limit: 50, after: nil))
        #expect(ranged.records.count == 3)
        let byHost = try await store.lookup(
            EventQuery(filters: [.init(key: .host, value: "web-01")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byHost.records.count == 10)
        let noHost = try await store.lookup(
            EventQuery(filters: [.init(key: .host, value: "web-02")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(noHost.records.isEmpty)
        let byResource = try await store.lookup(
            EventQuery(
                filters: [.init(key: .resourceType, value: "HostTrail::Host")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byResource.records.count == 10)
        let arn = try #require(try CloudTrailRecord.decode(from: Data(byResource.records[3].json.utf8)).resources?.first?.arn)
        let byName = try await store.lookup(
            EventQuery(filters: [.init(key: .resourceName, value: arn)], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byName.records.count == 10)
        let none = try await store.lookup(
            EventQuery(filters: [.init(key: .resourceName, value: arn + "x")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(none.records.isEmpty)
    }

    /// Records stored before the resource index existed are found by resource after the migration;
    /// a duplicate adds no resource row; deleting an event deletes its resources.
    @Test func theResourceIndexIsBackfilledKeptInStepAndDeletedWithItsEvents() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let path = directory.file("events.sqlite")
        let old = try CollectorTestRecords.stored(CollectorTestRecords.record(name: "BeforeV3", time: "2026-01-01T00:00:00Z"))
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteEventStore.migrator.migrate(queue, upTo: "v2-invoking-user")
            try await queue.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO events (event_id, event_time, event_name, event_source, host, event_category, received_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [old.eventID, old.eventTime, old.eventName, old.eventSource, old.host, old.eventCategory, 0, old.json])
            }
        }
        let store = try SQLiteEventStore(path: path)
        let byType = try await store.lookup(
            EventQuery(
                filters: [.init(key: .resourceType, value: "HostTrail::Host")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byType.records.map(\.eventID) == [old.eventID])
        let fresh = try CollectorTestRecords.stored(CollectorTestRecords.record(name: "AfterV3", time: "2026-11-01T00:00:00Z"))
        _ = try await store.insert([fresh, fresh])
        _ = try await store.insert([fresh])
        let queue = try DatabaseQueue(path: path)
        func resourceRows() async throws -> Int {
            try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event_resources") ?? -1 }
        }
        #expect(try await resourceRows() == 2)
        let summary = try CollectorTestRecords.stored(CollectorTestRecords.record(name: "Summary", time: "2026-11-02T00:00:00Z"))
        #expect(
            try await store.deleteOlderThan(Int64(TrailTime.parseISO8601("2026-06-01T00:00:00Z")!.timeIntervalSince1970 * 1000), limit: 10) {
                _, _, _ in summary
            } == 1)
        // The old event's resource went with it; the summary brought its own.
        #expect(try await resourceRows() == 2)
        #expect(try await store.count() == 2)
    }
}

struct CloudTrailAPITests {
    let configuration = CollectorConfiguration(accountID: "123456789012", region: "eu-west-1", trailName: "t")

    func api(records: Int) async throws -> (CloudTrailAPI, TemporaryDirectory) {
        let directory = try TemporaryDirectory(prefix: "api")
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        // Several events share a second, so paging must order by event ID within it.
        _ = try await store.insert(
            (0..<records).map {
                try CollectorTestRecords.stored(CollectorTestRecords.record(time: "2026-11-24T10:00:\(String(format: "%02d", $0 / 3))Z", index: $0))
            })
        return (CloudTrailAPI(store: store, configuration: configuration), directory)
    }

    @Test func pagesCoverEveryEventOnceNewestFirst() async throws {
        let (api, directory) = try await api(records: 23)
        defer { directory.remove() }
        var seen: [String] = []
        var times: [Double] = []
        var request = LookupEventsRequest(maxResults: 5)
        while true {
            let page = try await api.lookupEvents(request)
            seen.append(contentsOf: page.events.map(\.eventId))
            times.append(contentsOf: page.events.map(\.eventTime))
            guard let token = page.nextToken else { break }
            request.nextToken = token
        }
        #expect(seen.count == 23)
        #expect(Set(seen).count == 23)
        #expect(times == times.sorted(by: >))
    }

    /// Whatever the records hold, a page stops at its byte budget (with a next page): one huge
    /// record per event made every newest-50 lookup carry them all.
    @Test func aPageOfLargeRecordsEndsAtItsByteBudgetAndPagingLosesNothing() async throws {
        let directory = try TemporaryDirectory(prefix: "api")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        var binder = CollectorTestRecords.binder
        binder.maxRecordBytes = 2 * 1024 * 1024
        _ = try await store.insert(
            (0..<10).map { index in
                var record = CollectorTestRecords.record(time: "2026-11-24T10:00:0\(index)Z", index: index)
                record.requestParameters = ["pad": .string(String(repeating: "x", count: 1024 * 1024))]
                return try binder.bind(record, index: 0, host: "web-01")
            })
        let api = CloudTrailAPI(store: store, configuration: configuration)
        var request = LookupEventsRequest(maxResults: 50)
        var pages: [Int] = []
        var seen = Set<String>()
        while true {
            let page = try await api.lookupEvents(request)
            pages.append(page.events.count)
            seen.formUnion(page.events.map(\.eventId))
            guard let token = page.nextToken else { break }
            request.nextToken = token
        }
        #expect(pages == [4, 4, 2])
        #expect(seen.count == 10)
    }

    @Test func aTokenOnlyWorksWithItsOwnQuery() async throws {
        let (api, directory) = try await api(records: 3)
        defer { directory.remove() }
        let first = try await api.lookupEvents(LookupEventsRequest(maxResults: 1))
        let token = try #require(first.nextToken)
        let changed = LookupEventsRequest(lookupAttributes: [.init(key: .username, value: "alice")], maxResults: 1, nextToken: token)
        await #expect(
            throws: CloudTrailAPIError.invalidNextToken("NextToken is invalid or belongs to a different query; resend the same parameters with it")
        ) {
            try await api.lookupEvents(changed)
        }
        let garbage = LookupEventsRequest(maxResults: 1, nextToken: "%%%")
        let error = await #expect(throws: CloudTrailAPIError.self) { try await api.lookupEvents(garbage) }
        #expect(error?.type == "InvalidNextTokenException")
    }

    @Test(arguments: [
        (#"{"MaxResults":0}"#, "InvalidMaxResultsException"),
        (#"{"MaxResults":51}"#, "InvalidMaxResultsException"),
        (#"{"StartTime":1000,"EndTime":10}"#, "InvalidTimeRangeException"),
        (#"{"LookupAttributes":[{"AttributeKey":"Colour","AttributeValue":"x"}]}"#, "InvalidLookupAttributesException"),
        (#"{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":""}]}"#, "InvalidLookupAttributesException"),
        (#"{"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"maybe"}]}"#, "InvalidLookupAttributesException"),
        (#"{"EventCategory":"data"}"#, "InvalidEventCategoryException"),
        (#"{"StartTime":"soon"}"#, "SerializationException"),
        (#"{"StartTime":1e300}"#, "SerializationException"),
        (#"{"EndTime":-1e30}"#, "SerializationException"),
        (#"{"EndTime":"1e99"}"#, "SerializationException"),
    ])
    func badRequestsGetCloudTrailsErrors(body: String, type: String) async throws {
        let (api, directory) = try await api(records: 1)
        defer { directory.remove() }
        let error = await #expect(throws: CloudTrailAPIError.self) {
            try await api.handle(target: CloudTrailAPI.targetPrefix + "LookupEvents", body: Data(body.utf8))
        }
        #expect(error?.type == type)
    }

    @Test func timesAreAcceptedAsEpochNumbersAndISOStrings() async throws {
        let (api, directory) = try await api(records: 6)
        defer { directory.remove() }
        for body in [#"{"StartTime":1795514400,"EndTime":1795514401}"#, #"{"StartTime":"2026-11-24T10:00:00Z","EndTime":"2026-11-24T10:00:01Z"}"#] {
            let data = try await api.handle(target: CloudTrailAPI.targetPrefix + "LookupEvents", body: Data(body.utf8))
            let response = try JSONDecoder().decode(LookupEventsResponse.self, from: data)
            #expect(response.events.count == 6, "\(body)")
        }
    }

    @Test func unknownOperationsAndTargetsAreRefused() async throws {
        let (api, directory) = try await api(records: 0)
        defer { directory.remove() }
        await #expect(throws: CloudTrailAPIError.self) { try await api.handle(target: nil, body: Data()) }
        await #expect(throws: CloudTrailAPIError.self) { try await api.handle(target: CloudTrailAPI.targetPrefix + "DeleteTrail", body: Data()) }
        let trails = try await api.handle(target: CloudTrailAPI.targetPrefix + "DescribeTrails", body: Data("{}".utf8))
        #expect(String(decoding: trails, as: UTF8.self).contains("arn:aws:cloudtrail:eu-west-1:123456789012:trail/t"))
    }

    /// An event ID is unique per host: a record another host stored first does not make this
    /// host's a duplicate; the collision, and a host re-using its own ID for other content, are
    /// recorded as alerts (once each, however often the record is sent again).
    @Test func anEventIDIsUniquePerHostAndCollisionsAreRecorded() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let binder = CollectorTestRecords.binder
        let records = CollectorRecords(binder: binder)
        let alert: @Sendable (EventIDCollision) -> StoredRecord? = { try? records.eventIDCollision($0) }
        let planted = try CollectorTestRecords.stored(CollectorTestRecords.record(name: "Planted", host: "web-02", index: 7), host: "web-02")
        var realRecord = CollectorTestRecords.record(name: "Real", host: "web-01", index: 8)
        realRecord.eventID = planted.eventID
        let real = try CollectorTestRecords.stored(realRecord, host: "web-01")
        #expect(planted.eventID == real.eventID)
        #expect(try await store.store([planted], collisionAlert: alert).result == IngestResult(accepted: 1, duplicates: 0))
        // What the store hands on: the new record and the alert it made; a duplicate, nothing.
        let second = try await store.store([real], collisionAlert: alert)
        #expect(second.result == IngestResult(accepted: 1, duplicates: 0))
        #expect(second.stored.map(\.eventName) == ["Real", "EventIDCollision"])
        let again = try await store.store([real], collisionAlert: alert)
        #expect(again.result == IngestResult(accepted: 0, duplicates: 1) && again.stored.isEmpty)
        var other = real
        other.json = other.json.replacingOccurrences(of: "\"Real\"", with: "\"Rewritten\"")
        #expect(try await store.store([other], collisionAlert: alert).result == IngestResult(accepted: 0, duplicates: 1))
        let byID = try await store.lookup(
            EventQuery(
                filters: [LookupAttribute(key: .eventId, value: real.eventID)], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byID.records.count == 2)
        // Two hosts' records under one ID and time: a page boundary between them skips neither,
        // whichever index the lookup walks.
        let shapes: [[LookupAttribute]] = [
            [.init(key: .eventId, value: real.eventID)], [.init(key: .resourceType, value: RecordResource.hostType)],
            [.init(key: .username, value: "alice")], [],
        ]
        for filters in shapes {
            var hosts: [String] = []
            var after: EventQuery.Cursor?
            repeat {
                let page = try await store.lookup(EventQuery(filters: filters, startTime: nil, endTime: nil, insights: false, limit: 1, after: after))
                hosts += page.records.filter { $0.eventID == real.eventID }.map(\.host)
                after = page.hasMore ? page.records.last.map { EventQuery.Cursor(time: $0.eventTime, eventID: $0.eventID, host: $0.host) } : nil
            } while after != nil
            #expect(hosts == ["web-02", "web-01"], "\(filters)")
        }
        let alerts = try await store.lookup(
            EventQuery(
                filters: [LookupAttribute(key: .eventName, value: "EventIDCollision")], startTime: nil, endTime: nil, insights: false, limit: 50,
                after: nil))
        let codes = try alerts.records.map { try CloudTrailRecord.decode(from: Data($0.json.utf8)).errorCode }
        #expect(codes.sorted { ($0 ?? "") < ($1 ?? "") } == ["EventIDCollision", "EventIDReused"])
    }

    /// A store written by the previous schema (one event ID for the fleet) keeps every event, its
    /// resources and its rowid (the archive's claim order) when it moves to per-host IDs.
    @Test func theMoveToPerHostEventIDsKeepsEveryEvent() async throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        let path = directory.file("events.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteEventStore.migrator.migrate(queue, upTo: "v4-archive")
            try await queue.write { db in
                for index in 0..<5 {
                    try db.execute(
                        sql: """
                            INSERT INTO events (rowid, event_id, event_time, event_name, event_source, host, event_category, received_at, record, log_file)
                            VALUES (?, ?, ?, 'Old', 'a.b', 'web-0\(index % 2)', 'Management', 0, '{}', NULL)
                            """, arguments: [100 + index * 3, "6f1c7c0e-0000-4000-8000-00000000000\(index)", 1000 + index])
                    try db.execute(
                        sql: "INSERT INTO event_resources (event_id, event_time, type, name) VALUES (?, ?, 'T', 'N')",
                        arguments: ["6f1c7c0e-0000-4000-8000-00000000000\(index)", 1000 + index])
                }
            }
        }
        #expect(try SQLiteEventStore.pendingMigrations(path: path) == ["v5-host-event-id", "v6-rules", "v7-responses", "v8-hosts"])
        let store = try SQLiteEventStore(path: path)
        #expect(try SQLiteEventStore.pendingMigrations(path: path).isEmpty)
        #expect(try SQLiteEventStore.pendingMigrations(path: directory.file("new.sqlite")).isEmpty)
        #expect(try await store.count() == 5)
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT rowid, host FROM events ORDER BY rowid") }
        #expect(rows.map { $0[0] as Int64 } == [100, 103, 106, 109, 112])
        let byResource = try await store.lookup(
            EventQuery(
                filters: [LookupAttribute(key: .resourceType, value: "T")], startTime: nil, endTime: nil, insights: false, limit: 50, after: nil))
        #expect(byResource.records.count == 5)
    }

    /// A migration runs before `READY=1` and can outlast systemd's start timeout on a large store:
    /// the collector asks for more time (`EXTEND_TIMEOUT_USEC`) and says why, from its start.
    @Test func aCollectorMigratingItsStoreTellsSystemdItIsStillStarting() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("data"), withIntermediateDirectories: true)
        try SQLiteEventStore.migrator.migrate(try DatabaseQueue(path: directory.file("data/events.sqlite")), upTo: "v4-archive")
        let certificates = try Command.run(TestBinaries.cli, ["dev-certs", "--out", directory.file("certs"), "--host", "web-01"])
        try #require(certificates.status == 0, "\(certificates)")
        let notify = try UnixSockets.DatagramListener(path: directory.file("notify"))
        let collector = try TestProcess(
            TestBinaries.collector,
            [
                "--listen", "127.0.0.1:0", "--data-dir", directory.file("data"), "--tls-cert", directory.file("certs/collector.pem"),
                "--tls-key", directory.file("certs/collector-key.pem"), "--client-ca", directory.file("certs/ca.pem"), "--no-archive",
                "--metrics-listen", "none",
            ], logPath: directory.file("collector.log"), environment: ["NOTIFY_SOCKET": notify.path])
        defer { _ = collector.stop() }
        let messages = notify.receive(until: "READY=1", timeout: 30)
        let extended = try #require(messages.firstIndex { $0.contains("EXTEND_TIMEOUT_USEC=60000000") }, "\(messages)\n\(collector.log)")
        #expect(messages[extended].contains("STATUS=migrating the event store (v5-host-event-id, v6-rules, v7-responses, v8-hosts)"))
        let ready = try #require(messages.firstIndex { $0.contains("READY=1") }, "\(messages)\n\(collector.log)")
        #expect(extended < ready)
        #expect(collector.log.contains("event store migrated"))
        #expect(try SQLiteEventStore.pendingMigrations(path: directory.file("data/events.sqlite")).isEmpty)
    }
}
