// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

struct CloudTrailRecordTests {
    static func samples() throws -> [JSONValue] {
        let url = try #require(Bundle.module.url(forResource: "cloudtrail-samples", withExtension: "json", subdirectory: "Fixtures"))
        let document = try JSONValue.parse(Data(contentsOf: url))
        return try #require(document["Records"]?.arrayValue)
    }

    @Test func everySampleRoundTripsWithoutLosingAMember() throws {
        let samples = try Self.samples()
        #expect(samples.count == 6)
        for sample in samples {
            let record = try CloudTrailRecord(json: sample)
            let reencoded = try JSONValue.parse(record.canonicalJSON())
            #expect(reencoded == sample, "record \(record.eventID) changed in a round trip")
            // The Codable path reads the same record (Foundation may read 2.0 as an integer; members agree).
            let viaCodable = try JSONDecoder().decode(CloudTrailRecord.self, from: Data(sample.serialized()))
            #expect(viaCodable.eventID == record.eventID)
            #expect(Set(viaCodable.otherMembers.keys) == Set(record.otherMembers.keys))
        }
    }

    @Test func canonicalJSONIsTheSortedSerializationOfTheJSONValue() throws {
        for sample in try Self.samples() {
            let record = try CloudTrailRecord(json: sample)
            #expect(try record.canonicalJSON() == Data(record.jsonValue.serialized()))
            #expect(try record.canonicalJSON() == Data(sample.serialized()))
        }
        // A modelled member wins over an unmodelled one of the same name, in both forms.
        var record = try CloudTrailRecord(json: try Self.samples()[0])
        record.otherMembers["eventName"] = "Shadow"
        record.otherMembers["zzzExtra"] = .integer(1)
        let canonical = try JSONValue.parse(record.canonicalJSON())
        #expect(canonical["eventName"]?.stringValue == record.eventName)
        #expect(canonical["zzzExtra"] == .integer(1))
        #expect(try record.canonicalJSON() == Data(record.jsonValue.serialized()))
    }

    @Test func batchBodyRoundTrips() throws {
        let url = try #require(Bundle.module.url(forResource: "cloudtrail-samples", withExtension: "json", subdirectory: "Fixtures"))
        let original = try Data(contentsOf: url)
        let batch = try RecordBatch.decode(from: original)
        #expect(batch.records.count == 6)
        let rebuilt = RecordBatch.encode(canonicalRecords: try batch.records.map { try $0.canonicalJSON() })
        #expect(try JSONValue.parse(rebuilt) == JSONValue.parse(original))
    }

    @Test func modelledMembersAreReadable() throws {
        let records = try Self.samples().map { try CloudTrailRecord(json: $0) }
        let assumed = records[1]
        #expect(assumed.userIdentity?.sessionContext?.sessionIssuer?.userName == "Deploy")
        #expect(assumed.userIdentity?.sessionContext?.sourceIdentity == "builder@example.com")
        #expect(assumed.resources?.first?.type == "AWS::EC2::Instance")
        #expect(assumed.otherMembers["tlsDetails"]?["tlsVersion"] == "TLSv1.2")
        #expect(assumed.responseElements?["instancesSet"]?["items"]?.arrayValue?.first?["launchTime"] == .integer(1_626_264_189_000))
        // Explicit nulls stay explicit.
        #expect(records[0].responseElements == .null)
        #expect(records[2].requestParameters == .null)
        // An Insights record has no userIdentity.
        #expect(records[4].userIdentity == nil)
        #expect(records[4].insightDetails?["insightType"] == "ApiCallRateInsight")
        #expect(records[3].errorCode == "AccessDenied")
        #expect(records[3].additionalEventData?["bytesTransferredOut"] == .number(243.5))
    }

    /// The canonical writer trusts `modelledMembers` to be in sorted order (it skips the sort).
    @Test func modelledMembersComeInCanonicalOrder() throws {
        var record = try CloudTrailRecord(json: Self.samples()[1])
        record.awsRegion = "eu-west-1"
        record.apiVersion = "2013-11-01"
        record.errorCode = "E"
        record.errorMessage = "m"
        record.readOnly = true
        record.managementEvent = true
        record.recipientAccountId = "123"
        record.sharedEventID = "s"
        record.eventCategory = "Management"
        record.insightDetails = .object([:])
        record.requestID = "r"
        record.eventType = "AwsApiCall"
        record.sourceIPAddress = "1.2.3.4"
        record.userAgent = "ua"
        record.additionalEventData = .object([:])
        record.requestParameters = .object([:])
        record.responseElements = .null
        let names = record.modelledMembers.map(\.member.name)
        #expect(names.count == 24)
        #expect(names == names.sorted())
        // Without other members the canonical JSON is the sorted object all the same.
        record.otherMembers = [:]
        let canonical = try record.canonicalJSON()
        var pairs = Array(try #require(JSONValue.parse(canonical).objectValue))
        var resorted: [UInt8] = []
        JSONValue.writeObject(&pairs, to: &resorted)
        #expect(Array(canonical) == resorted)
    }

    @Test func recordWithoutRequiredMemberIsRejected() throws {
        let json = #"{"eventVersion":"1.11","eventTime":"2026-01-01T00:00:00Z","eventSource":"a.b","eventName":"X"}"#
        let error = #expect(throws: RecordFormatError.self) { try CloudTrailRecord.decode(from: Data(json.utf8)) }
        #expect(error?.message == "record.eventID is missing")
        // An Insight has no event source or name of its own (they are in insightDetails).
        let insight = try CloudTrailRecord.decode(
            from: Data(
                #"{"eventVersion":"1.11","eventTime":"2026-01-01T00:00:00Z","eventID":"x","eventCategory":"Insight","insightDetails":{"eventSource":"a.b","eventName":"X"}}"#
                    .utf8))
        #expect(insight.eventSource == nil && insight.eventName == nil)
        #expect(insight.listedEventSource == "a.b" && insight.listedEventName == "X")
        #expect(try insight.jsonValue == JSONValue.parse(insight.canonicalJSON()))
        let wrongType = #expect(throws: RecordFormatError.self) {
            try CloudTrailRecord.decode(
                from: Data(#"{"eventVersion":"1.11","eventTime":"t","eventSource":"a.b","eventName":"X","eventID":"x","readOnly":"no"}"#.utf8))
        }
        #expect(wrongType?.message == "record.readOnly must be a boolean, got string")
    }

    @Test func userNameForLookupFallsBackToTheSessionIssuer() {
        var record = CloudTrailRecord(
            userIdentity: UserIdentity(
                type: UserIdentity.linuxUser, principalId: "0",
                sessionContext: SessionContext(sessionIssuer: SessionIssuer(userName: "alice"))),
            eventTime: "2026-01-01T00:00:00Z", eventSource: "sudo.linux", eventName: "Sudo", eventID: "id")
        #expect(record.userNameForLookup == "alice")
        record.userIdentity?.userName = "root"
        #expect(record.userNameForLookup == "root")
    }

    @Test func hostClaimsComeFromAdditionalDataAndResources() {
        let record = CloudTrailRecord(
            userIdentity: nil, eventTime: "2026-01-01T00:00:00Z", eventSource: "a.b", eventName: "X",
            additionalEventData: ["host": ["hostname": "web-01"]], eventID: "id",
            resources: [.host(named: "web-02", accountId: "123456789012", region: "eu-west-1")])
        #expect(record.allClaimedHostNames == ["web-01", "web-02"])
        #expect(record.claimedHostName == "web-01")
    }
}
