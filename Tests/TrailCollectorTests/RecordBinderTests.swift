// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

@testable import TrailCollector

struct RecordBinderTests {
    @Test func recordsAreStampedWithTheFleetAndBoundToTheHost() throws {
        let stored = try CollectorTestRecords.stored(CollectorTestRecords.record(host: nil), host: "web-07")
        let record = try CloudTrailRecord.decode(from: Data(stored.json.utf8))
        #expect(stored.host == "web-07")
        #expect(record.recipientAccountId == "123456789012")
        #expect(record.awsRegion == "eu-west-1")
        #expect(record.additionalEventData?["host"]?["hostname"] == "web-07")
        #expect(record.additionalEventData?["trailARN"] == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t")
        #expect(record.resources == [.host(named: "web-07", accountId: "123456789012", region: "eu-west-1")])
    }

    @Test func aRecordClaimingAnotherHostIsRefused() throws {
        let error = #expect(throws: IngestRejection.self) {
            try CollectorTestRecords.stored(CollectorTestRecords.record(host: "web-01"), host: "web-02")
        }
        #expect(error?.statusCode == 403)
        #expect(error?.code == "HostMismatch")
        #expect(error?.message.contains("web-01") == true)
    }

    @Test func aHostResourceNamingAnotherHostIsRefused() throws {
        var record = CollectorTestRecords.record(host: nil)
        record.resources = [RecordResource(arn: "arn:hosttrail:host:::host/db-01", accountId: nil, type: RecordResource.hostType)]
        let error = #expect(throws: IngestRejection.self) { try CollectorTestRecords.stored(record, host: "web-01") }
        #expect(error?.statusCode == 403)
    }

    @Test(arguments: [
        #"not json"#,
        #"{"records":[]}"#,
        #"{"Records":[{"eventVersion":"1.11"}]}"#,
        #"{"Records":[{"eventVersion":"1.11","eventTime":"yesterday","eventSource":"a.b","eventName":"X","eventID":"6f1c7c0e-0000-4000-8000-000000000001"}]}"#,
        #"{"Records":[{"eventVersion":"1.11","eventTime":"2026-01-01T00:00:00Z","eventSource":"a.b","eventName":"X","eventID":"not-a-uuid"}]}"#,
    ])
    func malformedBodiesAreRefusedWithA400(body: String) {
        let error = #expect(throws: IngestRejection.self) { try CollectorTestRecords.binder.bind(body: Data(body.utf8), host: "web-01") }
        #expect(error?.statusCode == 400)
    }

    /// What the store indexes: a NUL ended the indexed name early (a lookup for `Delete` found
    /// `Delete\0Everything`), and a host can send anything; and times outside 0001–9999.
    @Test(arguments: [
        #""eventName":"Delete\u0000Everything","eventSource":"a.b","eventTime":"2026-01-01T00:00:00Z""#,
        #""eventName":"X","eventSource":"a\nb","eventTime":"2026-01-01T00:00:00Z""#,
        #""eventName":"X","eventSource":"a.b","eventTime":"2026-01-01T00:00:00Z","userIdentity":{"userName":"root\u001b[0m"}"#,
        #""eventName":"X","eventSource":"a.b","eventTime":"2026-01-01T00:00:00Z","sourceIPAddress":"10.0.0.1\u0000""#,
        #""eventName":"X","eventSource":"a.b","eventTime":"9999-12-31T23:59:59-23:59""#,
    ])
    func recordsWithControlCharactersOrImpossibleTimesAreRefused(members: String) {
        let body = #"{"Records":[{"eventVersion":"1.11","eventID":"6f1c7c0e-0000-4000-8000-000000000001",\#(members)}]}"#
        let error = #expect(throws: IngestRejection.self) { try CollectorTestRecords.binder.bind(body: Data(body.utf8), host: "web-01") }
        #expect(error?.statusCode == 400)
    }
}

extension RecordBinderTests {
    /// Each record that cannot be stored is named with its reason; the others are not refused
    /// with it (the agent sets aside only those named and sends the rest again).
    @Test func everyRefusedRecordIsNamedAlone() throws {
        let good = try CollectorTestRecords.record(index: 1).canonicalJSON()
        let other = try CollectorTestRecords.record(index: 2).canonicalJSON()
        let bad =
            #"{"eventVersion":"1.11","eventID":"6f1c7c0e-0000-4000-8000-0000000000ff","eventName":"A\u0000B","eventSource":"a.b","eventTime":"2026-01-01T00:00:00Z"}"#
        var big = CollectorTestRecords.record(index: 3)
        big.requestParameters = ["pad": .string(String(repeating: "x", count: 5000))]
        let body =
            "{\"Records\":[\(String(decoding: good, as: UTF8.self)),\(bad),\(String(decoding: other, as: UTF8.self)),\(String(decoding: try big.canonicalJSON(), as: UTF8.self))]}"
        var binder = CollectorTestRecords.binder
        binder.maxRecordBytes = 4096
        let error = #expect(throws: IngestRejection.self) { try binder.bind(body: Data(body.utf8), host: "web-01") }
        #expect(error?.statusCode == 400 && error?.code == "InvalidRecords")
        #expect(error?.refused.map(\.index) == [1, 3])
        #expect(error?.refused.map(\.code) == ["InvalidRecord", "RecordTooLarge"])
        #expect(error?.refused.first?.eventID == "6f1c7c0e-0000-4000-8000-0000000000ff")
        // Without them, the batch is stored.
        #expect(try binder.bind(body: Data("{\"Records\":[\(String(decoding: good, as: UTF8.self))]}".utf8), host: "web-01").count == 1)
    }
}

struct IngestLimiterTests {
    @Test func slotsAreReturnedAndTheCapHolds() {
        let limiter = IngestLimiter(limit: 2)
        #expect(limiter.enter())
        #expect(limiter.enter())
        #expect(!limiter.enter())
        limiter.leave()
        #expect(limiter.enter())
    }
}
