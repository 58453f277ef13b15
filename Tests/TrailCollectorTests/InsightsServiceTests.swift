// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

/// Insights in the collector over a real store: resumed from its counts, written as CloudTrail
/// Insight records once, ended once after a restart.
struct InsightsServiceTests {
    /// 2026-11-24T12:00:00Z, in minutes.
    static let now = Int64(TrailTime.parseISO8601("2026-11-24T12:00:00Z")!.timeIntervalSince1970) / 60

    static var settings: InsightDetector<InsightKey>.Settings {
        var settings = InsightDetector<InsightKey>.Settings()
        settings.windowDays = 1
        settings.minimumHistoryMinutes = 60
        return settings
    }

    /// `perMinute(m)` failed logins of alice on web-01 in each minute `m` of `minutes`.
    static func logins(_ minutes: Range<Int64>, perMinute: (Int64) -> Int) throws -> [StoredRecord] {
        try minutes.flatMap { minute in
            try (0..<perMinute(minute)).map { index in
                var record = CollectorTestRecords.record(
                    name: "Login", source: "sshd.linux", user: "alice", time: TrailTime.formatEpochSeconds(minute * 60 + Int64(index % 60)),
                    index: index)
                record.errorCode = "AuthFailure"
                record.readOnly = nil
                record.userAgent = "OpenSSH_9.2"
                return try CollectorTestRecords.stored(record)
            }
        }
    }

    static func service(store: SQLiteEventStore, resumedThrough: Int64) -> (InsightsService, InsightCounter) {
        let counter = InsightCounter(settings: settings, resumedThrough: resumedThrough)
        let service = InsightsService(
            counter: counter, pipeline: IngestPipeline(store: store, consumers: [counter]), binder: CollectorTestRecords.binder,
            builder: InsightRecordBuilder(windowDays: 1), grace: .seconds(0), logger: Logger(label: "test"))
        return (service, counter)
    }

    static func insights(_ store: SQLiteEventStore) async throws -> [CloudTrailRecord] {
        try await store.lookup(EventQuery(filters: [], startTime: nil, endTime: nil, insights: true, limit: 50, after: nil)).records
            .map { try CloudTrailRecord.decode(from: Data($0.json.utf8)) }
            .sorted {
                ($0.eventTime, $0.insightDetails?["state"]?.stringValue ?? "") < ($1.eventTime, $1.insightDetails?["state"]?.stringValue ?? "")
            }
    }

    /// Three hours at 2 a minute, a burst of 40 a minute for five minutes, then 2 a minute again:
    /// resumed from the store, one Insight a scope (fleet, host, user) opens and closes, written as
    /// CloudTrail writes Insights; resuming again stores nothing new.
    @Test func aBurstInTheStoreIsOneInsightAScopeWrittenOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "insights")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        let burst = (Self.now - 20)..<(Self.now - 15)
        _ = try await store.insert(try Self.logins((Self.now - 180)..<Self.now) { burst.contains($0) ? 40 : 2 })
        // Read-only calls without an error count for nothing.
        var read = CollectorTestRecords.record(name: "Describe", time: TrailTime.formatEpochSeconds((Self.now - 18) * 60))
        read.readOnly = true
        _ = try await store.insert([try CollectorTestRecords.stored(read)])

        let (service, _) = Self.service(store: store, resumedThrough: Self.now - 1)
        try await service.resume()
        let all = try await Self.insights(store)
        // Alice's first Describe is first seen (after the hour's warm-up): a pair of its own.
        let firstSeen = all.filter { $0.insightDetails?["insightType"] == "FirstEventName" }
        #expect(firstSeen.count == 2 && firstSeen.allSatisfy { $0.insightDetails?["eventName"] == "Describe" })
        #expect(firstSeen.first?.insightDetails?["hostTrail"]?["userName"] == "alice")
        let records = all.filter { $0.insightDetails?["insightType"] != "FirstEventName" }
        #expect(records.count == 6, "\(records.map(\.insightDetails))")
        for record in records {
            let details = try #require(record.insightDetails)
            #expect(record.eventSource == nil && record.eventName == nil && record.userIdentity == nil)
            #expect(record.eventType == "AwsCloudTrailInsight" && record.eventCategory == "Insight")
            #expect(record.recipientAccountId == "123456789012" && record.awsRegion == "eu-west-1")
            #expect(details["eventSource"] == "sshd.linux" && details["eventName"] == "Login")
            #expect(details["insightType"] == "ApiErrorRateInsight" && details["errorCode"] == "AuthFailure")
            let statistics = try #require(details["insightContext"]?["statistics"])
            #expect(statistics["baseline"]?["average"] == .number(2))
            #expect(statistics["baselineDuration"] == .integer(1440))
            let state = details["state"]?.stringValue
            #expect(statistics["insight"]?["average"] == .number(40))
            #expect(statistics["insightDuration"] == .integer(state == "Start" ? 2 : 5))
            #expect(record.eventTime == TrailTime.formatEpochSeconds((state == "Start" ? burst.lowerBound : burst.upperBound) * 60))
            let attributions = try #require(details["insightContext"]?["attributions"]?.arrayValue)
            let byName = Dictionary(uniqueKeysWithValues: attributions.map { ($0["attribute"]?.stringValue ?? "", $0) })
            #expect(byName["userAgent"]?["insight"] == [["value": "OpenSSH_9.2", "average": .number(40)]])
            #expect(byName["host"]?["insight"]?.arrayValue?.first?["value"] == "web-01")
            #expect(byName["errorCode"]?["baseline"]?.arrayValue?.first?["value"] == "AuthFailure")
            #expect(details["hostTrail"]?["direction"] == "rise")
        }
        let scopes = Set(records.compactMap { $0.insightDetails?["hostTrail"]?["scope"]?.stringValue })
        #expect(scopes == ["fleet", "host", "user"])
        // Each Insight: a Start and an End, distinct IDs, one shared ID.
        let pairs = Dictionary(grouping: records, by: { $0.sharedEventID ?? "" })
        #expect(pairs.count == 3 && pairs.values.allSatisfy { Set($0.map(\.eventID)).count == 2 })

        let (again, _) = Self.service(store: store, resumedThrough: Self.now - 1)
        try await again.resume()
        #expect(try await Self.insights(store).count == 8)
    }

    /// An Insight open when the collector stopped is open again after the restart (its Start
    /// stored once) and ends once, from the minutes counted live.
    @Test func anInsightOpenAtARestartEndsOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "insights")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        _ = try await store.insert(try Self.logins((Self.now - 180)..<Self.now) { $0 >= Self.now - 3 ? 40 : 2 })
        let (first, _) = Self.service(store: store, resumedThrough: Self.now - 1)
        try await first.resume()
        #expect(try await Self.insights(store).map { $0.insightDetails?["state"] } == ["Start", "Start", "Start"])

        // The restart: resumed from the same store, then five ordinary minutes counted as stored.
        let (second, counter) = Self.service(store: store, resumedThrough: Self.now - 1)
        try await second.resume()
        #expect(try await Self.insights(store).count == 3)
        for minute in Self.now..<(Self.now + 5) {
            let records = try Self.logins(minute..<(minute + 1)) { _ in 2 }
            try await second.pipeline.commit(records)
            _ = try await second.store(counter.close(minute: minute))
        }
        let records = try await Self.insights(store)
        #expect(records.map { $0.insightDetails?["state"]?.stringValue } == ["Start", "Start", "Start", "End", "End", "End"])
        #expect(records.last?.insightDetails?["insightContext"]?["statistics"]?["insightDuration"] == .integer(3))
    }

    /// `ListInsightsMetricData` in CloudTrail's shape: zeros filled in, pages, the parameters checked.
    @Test func theMetricDataIsTheSeriesOfTheKey() async throws {
        let directory = try TemporaryDirectory(prefix: "insights")
        defer { directory.remove() }
        let store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        _ = try await store.insert(try Self.logins((Self.now - 10)..<Self.now) { $0 == Self.now - 5 ? 7 : ($0 % 2 == 0 ? 1 : 0) })
        let api = CloudTrailAPI(store: store, configuration: CollectorConfiguration())
        func call(_ members: [String: JSONValue], scope: LookupScope = .fleet) async throws -> JSONValue {
            var request: [String: JSONValue] = [
                "EventSource": "sshd.linux", "EventName": "Login", "InsightType": "ApiErrorRateInsight", "ErrorCode": "AuthFailure",
                "Period": 60, "StartTime": .integer((Self.now - 6) * 60), "EndTime": .integer((Self.now - 3) * 60 - 1),
            ]
            for (name, value) in members { request[name] = value }
            return try JSONValue.parse(
                try await api.handle(
                    target: CloudTrailAPI.targetPrefix + "ListInsightsMetricData", body: Data(JSONValue.object(request).serialized()), scope: scope))
        }
        let all = try await call([:])
        #expect(all["Timestamps"] == .array((Self.now - 6..<Self.now - 3).map { .integer($0 * 60) }))
        let zeroOrOne: JSONValue = (Self.now - 6) % 2 == 0 ? .number(1) : .number(0)
        #expect(all["Values"]?.arrayValue?[1] == .number(7) && all["Values"]?.arrayValue?[0] == zeroOrOne)
        #expect(all["NextToken"] == nil && all["ErrorCode"] == "AuthFailure")
        let nonZero = try await call(["DataType": "NonZeroData"])
        #expect(nonZero["Values"]?.arrayValue?.contains(.number(0)) == false)
        let first = try await call(["MaxResults": 2])
        #expect(first["Values"]?.arrayValue?.count == 2)
        let rest = try await call(["MaxResults": 2, "NextToken": try #require(first["NextToken"])])
        #expect(rest["Timestamps"] == [.integer((Self.now - 4) * 60)])
        // The host's own series; another host's reader sees none of web-01's.
        #expect(try await call(["Host": "web-01"])["Values"] == all["Values"])
        #expect(try await call([:], scope: LookupScope(hosts: ["web-02"], eventSources: nil))["Values"] == [.number(0), .number(0), .number(0)])
        // A range from the first representable second pages at once instead of walking 10¹⁰ periods.
        let ancient = try await call(["StartTime": 0, "MaxResults": 3])
        #expect(ancient["Timestamps"] == [0, 60, 120] && ancient["NextToken"] == "180")
        for bad: [String: JSONValue] in [["ErrorCode": .null], ["Period": 120], ["InsightType": "Other"], ["DataType": "All"], ["NextToken": "7"]] {
            await #expect(throws: CloudTrailAPIError.self) { _ = try await call(bad) }
        }
    }

    /// A store that fails is tried again, not the end of Insights (a service that returns stops
    /// the whole collector).
    @Test func aFailingStoreIsTriedAgain() async throws {
        let directory = try TemporaryDirectory(prefix: "insights")
        defer { directory.remove() }
        let (service, _) = Self.service(store: try SQLiteEventStore(path: directory.file("events.sqlite")), resumedThrough: Self.now)
        struct Unavailable: Error {}
        let attempts = Mutex(0)
        let value = try await service.retrying("test") {
            try attempts.withLock { count in
                count += 1
                if count < 3 { throw Unavailable() }
            }
            return 42
        }
        #expect(value == 42 && attempts.withLock { $0 } == 3)
    }

    /// A host cannot deliver an Insight: it would forge the collector's finding, or hide records
    /// from every lookup but Insights'.
    @Test func hostsCannotWriteInsights() throws {
        var record = CollectorTestRecords.record()
        record.eventCategory = "Insight"
        let body = Data(#"{"Records":[\#(String(decoding: try record.canonicalJSON(), as: UTF8.self))]}"#.utf8)
        #expect(throws: IngestRejection.self) { try CollectorTestRecords.binder.bind(body: body, host: "web-01") }
        do {
            _ = try CollectorTestRecords.binder.bind(body: body, host: "web-01")
        } catch let rejection as IngestRejection {
            #expect(rejection.statusCode == 403 && rejection.code == "ReservedEventCategory")
        }
        // Nor a record without an event name (only Insights go without one).
        var nameless = CollectorTestRecords.record()
        nameless.eventName = nil
        let namelessBody = Data(#"{"Records":[\#(String(decoding: try nameless.canonicalJSON(), as: UTF8.self))]}"#.utf8)
        do {
            _ = try CollectorTestRecords.binder.bind(body: namelessBody, host: "web-01")
            Issue.record("a record without eventName was bound")
        } catch let rejection as IngestRejection {
            #expect(rejection.statusCode == 400 && rejection.refused.first?.message.contains("eventName") == true)
        }
    }
}
