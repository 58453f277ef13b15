// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

struct ApplicationEventTests {
    static func events(_ json: String, contentType: String? = "application/json") throws -> [JSONValue] {
        try ApplicationRequest.events(body: Data(json.utf8), contentType: contentType)
    }

    static func validate(_ json: String) throws -> ApplicationEvent {
        try ApplicationEvent(validating: try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), index: 0)
    }

    @Test func oneEventABatchAndNDJSONAreAllAccepted() throws {
        #expect(try Self.events(#"{"eventName":"A"}"#).count == 1)
        #expect(try Self.events(#"{"events":[{"eventName":"A"},{"eventName":"B"}]}"#).count == 2)
        #expect(try Self.events("{\"eventName\":\"A\"}\n\n{\"eventName\":\"B\"}\r\n", contentType: "application/x-ndjson; charset=utf-8").count == 2)
        #expect(try Self.events("{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}", contentType: " Application/X-NDJSON ;charset=utf-8").count == 2)
        #expect(ApplicationRequest.isNDJSON("application/x-ndjson"))
        #expect(!ApplicationRequest.isNDJSON("application/x-ndjsonx"))
        #expect(!ApplicationRequest.isNDJSON("application/json"))
        #expect(!ApplicationRequest.isNDJSON("application/x-ndjsoné"))
        // curl -d sends application/x-www-form-urlencoded: still read as JSON.
        #expect(try Self.events(#"{"eventName":"A"}"#, contentType: "application/x-www-form-urlencoded").count == 1)
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        var body: String
        var contentType: String?
        var code: EventValidationError.Code
        var index: Int?
        var testDescription: String { "\(code): \(body.prefix(40))" }
    }

    @Test(arguments: [
        BadRequest(body: "not json", contentType: nil, code: .malformedJSON, index: nil),
        BadRequest(body: "[]", contentType: nil, code: .invalidRequest, index: nil),
        BadRequest(body: "42", contentType: nil, code: .invalidRequest, index: nil),
        BadRequest(body: #"{"events":{}}"#, contentType: nil, code: .invalidRequest, index: nil),
        BadRequest(body: #"{"events":[]}"#, contentType: nil, code: .invalidRequest, index: nil),
        BadRequest(body: "{\"eventName\":\"A\"}\n{oops", contentType: "application/x-ndjson", code: .malformedJSON, index: 1),
    ])
    func malformedRequestsAreRefused(_ bad: BadRequest) {
        let error = #expect(throws: EventValidationError.self) { try Self.events(bad.body, contentType: bad.contentType) }
        #expect(error?.code == bad.code)
        #expect(error?.index == bad.index)
    }

    @Test func tooManyEventsAreRefused() {
        let body = "{\"events\":[" + Array(repeating: #"{"eventName":"A"}"#, count: 1001).joined(separator: ",") + "]}"
        let error = #expect(throws: EventValidationError.self) { try Self.events(body) }
        #expect(error?.code == .tooManyEvents)
    }

    /// For `?partial=true`: each event parsed or refused on its own; the others still come through.
    @Test func itemsAreRefusedOneByOne() throws {
        let big = String(repeating: "x", count: 300 * 1024)
        let ndjson = "{\"eventName\":\"A\"}\n{oops\n{\"eventName\":\"\(big)\"}\n{\"eventName\":\"D\"}\n"
        let items = try ApplicationRequest.items(body: Data(ndjson.utf8), contentType: "application/x-ndjson")
        #expect(items.count == 4)
        #expect(items.map { (try? $0.get()) != nil } == [true, false, false, true])
        if case .failure(let error) = items[1] { #expect(error.code == .malformedJSON && error.index == 1) }
        if case .failure(let error) = items[2] { #expect(error.code == .eventTooLarge && error.index == 2) }
        let batch = "{\"events\":[{\"eventName\":\"A\"},{\"eventName\":\"B\",\"requestParameters\":{\"blob\":\"\(big)\"}},{\"eventName\":\"C\"}]}"
        let batchItems = try ApplicationRequest.items(body: Data(batch.utf8), contentType: nil)
        #expect(batchItems.map { (try? $0.get()) != nil } == [true, false, true])
        // What spoils the whole request still throws.
        #expect(throws: EventValidationError.self) { try ApplicationRequest.items(body: Data("not json".utf8), contentType: nil) }
    }

    @Test func anOversizedEventIsRefusedWithItsIndex() {
        let big = String(repeating: "x", count: 300 * 1024)
        let body = "{\"events\":[{\"eventName\":\"A\"},{\"eventName\":\"B\",\"requestParameters\":{\"blob\":\"\(big)\"}}]}"
        let error = #expect(throws: EventValidationError.self) { try Self.events(body) }
        #expect(error?.code == .eventTooLarge)
        #expect(error?.index == 1)
    }

    struct BadEvent: Sendable, CustomTestStringConvertible {
        var json: String
        var code: EventValidationError.Code
        var field: String
        var testDescription: String { "\(field): \(json)" }
    }

    @Test(arguments: [
        BadEvent(json: #"{}"#, code: .missingField, field: "eventName"),
        BadEvent(json: #"{"eventName":""}"#, code: .invalidFieldValue, field: "eventName"),
        BadEvent(json: #"{"eventName":5}"#, code: .invalidFieldType, field: "eventName"),
        BadEvent(json: #"{"eventName":"A","eventSource":"bad source!"}"#, code: .invalidFieldValue, field: "eventSource"),
        BadEvent(json: #"{"eventName":"A","eventTime":"yesterday"}"#, code: .invalidFieldValue, field: "eventTime"),
        BadEvent(json: #"{"eventName":"A","eventTime":12}"#, code: .invalidFieldType, field: "eventTime"),
        BadEvent(json: #"{"eventName":"A","eventCategory":"Insight"}"#, code: .invalidFieldValue, field: "eventCategory"),
        BadEvent(json: #"{"eventName":"A","readOnly":"yes"}"#, code: .invalidFieldType, field: "readOnly"),
        BadEvent(json: #"{"eventName":"A","requestParameters":[1]}"#, code: .invalidFieldType, field: "requestParameters"),
        BadEvent(json: #"{"eventName":"A","resources":{}}"#, code: .invalidFieldType, field: "resources"),
        BadEvent(json: #"{"eventName":"A","resources":[{"type":"HostTrail::Host"}]}"#, code: .invalidFieldValue, field: "resources"),
        BadEvent(json: #"{"eventName":"A","userIdentity":"root"}"#, code: .invalidFieldType, field: "userIdentity"),
        BadEvent(json: #"{"eventName":"A","colour":"blue"}"#, code: .unknownField, field: "colour"),
        // A trailing dot or an empty label: `sshd.linux.` read as the agent's own source.
        BadEvent(json: #"{"eventName":"A","eventSource":"sshd.linux."}"#, code: .invalidFieldValue, field: "eventSource"),
        BadEvent(json: #"{"eventName":"A","eventSource":".sshd.linux"}"#, code: .invalidFieldValue, field: "eventSource"),
        BadEvent(json: #"{"eventName":"A","eventSource":"sshd..linux"}"#, code: .invalidFieldValue, field: "eventSource"),
        // Control characters in what records are looked up and listed by (a NUL ended the indexed name).
        BadEvent(json: #"{"eventName":"Delete\u0000Everything"}"#, code: .invalidFieldValue, field: "eventName"),
        BadEvent(json: #"{"eventName":"A\nB"}"#, code: .invalidFieldValue, field: "eventName"),
        BadEvent(json: #"{"eventName":"A","requestID":"r\u001b[2J"}"#, code: .invalidFieldValue, field: "requestID"),
        BadEvent(json: #"{"eventName":"A","errorCode":"E\u0007"}"#, code: .invalidFieldValue, field: "errorCode"),
        BadEvent(json: #"{"eventName":"A","errorMessage":"line\u0000"}"#, code: .invalidFieldValue, field: "errorMessage"),
        BadEvent(json: #"{"eventName":"A","userIdentity":{"userName":"bob\r"}}"#, code: .invalidFieldValue, field: "userIdentity.userName"),
        BadEvent(json: #"{"eventName":"A","eventTime":"9999-12-31T23:59:59-23:59"}"#, code: .invalidFieldValue, field: "eventTime"),
        BadEvent(json: #"{"eventName":"A","eventTime":"0000-06-01T00:00:00Z"}"#, code: .invalidFieldValue, field: "eventTime"),
    ])
    func fieldErrorsNameTheField(_ bad: BadEvent) {
        let error = #expect(throws: EventValidationError.self) { try Self.validate(bad.json) }
        #expect(error?.code == bad.code)
        #expect(error?.field == bad.field)
        #expect(error?.index == 0)
        #expect(error?.jsonValue["error"]?["field"] == .string(bad.field))
    }

    @Test func aMessageMayHoldLineBreaks() throws {
        let event = try Self.validate(#"{"eventName":"A","errorMessage":"first line\n\tsecond"}"#)
        #expect(event.errorMessage == "first line\n\tsecond")
    }

    @Test func aFullEventIsRead() throws {
        let event = try Self.validate(
            #"{"eventSource":"billing.example.com","eventName":"DeleteInvoice","eventTime":"2026-11-24T10:00:00Z","readOnly":false,"requestID":"r-1","requestParameters":{"id":42},"userIdentity":{"type":"Root","userName":"alice","principalId":"0"},"eventVersion":"1.08","sourceIPAddress":"192.0.2.1","userAgent":"billing/1.0"}"#
        )
        #expect(event.eventName == "DeleteInvoice")
        #expect(event.claimedEndUser == "alice")
        #expect(event.readOnly == false)
        #expect(event.eventTime == TrailTime.parseISO8601("2026-11-24T10:00:00Z"))
    }
}

struct ApplicationRecordBuilderTests {
    let builder = ApplicationRecordBuilder(
        host: HostIdentity(hostname: "web-01", machineID: "3d1219c7c4c5404aaa1f6d2a48adfda4", bootID: "b00t"))
    let peer = PeerCredentials(
        pid: 4242, uid: 1000, gid: 1000, userName: "svc-billing", executable: "/usr/bin/billing",
        controlGroup: ControlGroup(procText: "0::/system.slice/billing.service\n"))

    @Test func theKernelsIdentityReplacesTheClientsClaim() throws {
        let event = try ApplicationEventTests.validate(
            #"{"eventSource":"billing.example.com","eventName":"DeleteInvoice","userIdentity":{"type":"Root","userName":"alice","principalId":"0","arn":"arn:aws:iam::1:root"}}"#
        )
        let record = try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "fallback", now: Date(timeIntervalSince1970: 0))
        #expect(record.userIdentity?.type == "LinuxUser")
        #expect(record.userIdentity?.principalId == "1000")
        #expect(record.userIdentity?.userName == "svc-billing")
        #expect(record.userIdentity?.arn == nil)
        #expect(record.userIdentity?.sessionContext?.sourceIdentity == "alice")
        #expect(record.additionalEventData?["process"]?["pid"] == .integer(4242))
        #expect(record.additionalEventData?["process"]?["exe"] == "/usr/bin/billing")
        #expect(record.additionalEventData?["process"]?["unit"] == "billing.service")
        #expect(record.additionalEventData?["process"]?["cgroup"] == "/system.slice/billing.service")
        #expect(record.additionalEventData?["host"]?["hostname"] == "web-01")
        #expect(record.eventTime == "1970-01-01T00:00:00Z")
        #expect(record.resources?.last?.type == RecordResource.hostType)
    }

    @Test func aRetriedRequestIDGivesTheSameEventID() throws {
        let event = try ApplicationEventTests.validate(#"{"eventSource":"billing.example.com","eventName":"A","requestID":"req-7"}"#)
        let first = try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "x", now: Date())
        let retry = try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "y", now: Date())
        #expect(first.eventID == retry.eventID)
        var otherUser = peer
        otherUser.uid = 1001
        #expect(try builder.record(for: event, index: 0, peer: otherUser, fallbackRequestID: "x", now: Date()).eventID != first.eventID)
    }

    @Test func eventsWithoutRequestIDsGetDistinctIDs() throws {
        let event = try ApplicationEventTests.validate(#"{"eventSource":"billing.example.com","eventName":"A"}"#)
        let first = try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "req-a", now: Date())
        let second = try builder.record(for: event, index: 1, peer: peer, fallbackRequestID: "req-a", now: Date())
        let third = try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "req-b", now: Date())
        #expect(Set([first.eventID, second.eventID, third.eventID]).count == 3)
    }

    @Test(arguments: ["sshd.linux", "agent.hosttrail", "SUDO.LINUX"])
    func reservedSourcesAreRefused(source: String) throws {
        let event = try ApplicationEventTests.validate(#"{"eventSource":"\#(source)","eventName":"A"}"#)
        let error = #expect(throws: EventValidationError.self) {
            try builder.record(for: event, index: 3, peer: peer, fallbackRequestID: "x", now: Date())
        }
        #expect(error?.code == .reservedEventSource)
        #expect(error?.index == 3)
    }

    /// Events covering every optional member, and `additionalEventData` names before, between,
    /// after and equal to the agent's `host` and `process`.
    static let writerCases = [
        #"{"eventName":"A"}"#,
        #"{"eventSource":"billing.example.com","eventName":"DeleteInvoice","eventTime":"2026-11-24T10:00:00.5Z","readOnly":false,"requestID":"r-1","requestParameters":{"id":42,"tags":["a","b\n"]},"userIdentity":{"type":"Root","userName":"alice"},"sourceIPAddress":"192.0.2.1","userAgent":"billing/1.0"}"#,
        #"{"eventSource":"shop.example.com","eventName":"Refund","readOnly":true,"errorCode":"AccessDenied","errorMessage":"no \"refunds\" today","responseElements":{"ok":false},"eventCategory":"Data"}"#,
        #"{"eventSource":"shop.example.com","eventName":"Tag","additionalEventData":{"a":1,"host":"mine","i":[1,2],"process":{"pid":1},"q":null,"zz":"é"},"resources":[{"ARN":"arn:x:y","type":"Shop::Order"}]}"#,
        #"{"eventSource":"shop.example.com","eventName":"Tag","additionalEventData":{"hosts":1,"hos":2,"processes":3}}"#,
    ]

    @Test(arguments: writerCases)
    func theDirectWriterWritesTheRecordsCanonicalJSON(json: String) throws {
        let event = try ApplicationEventTests.validate(json)
        let bare = PeerCredentials(pid: 7, uid: 0, gid: 0, userName: nil, executable: nil, controlGroup: nil)
        for (builder, peer) in [
            (builder, peer), (ApplicationRecordBuilder(host: HostIdentity(hostname: nil, machineID: "m", bootID: nil)), peer), (builder, bare),
        ] {
            let context = ApplicationRecordBuilder.RequestContext(
                peer: peer, fallbackRequestID: "req-w", now: Date(timeIntervalSince1970: 1_764_000_000.25))
            let accepted = try builder.accept(event, index: 2, context: context)
            var written: [UInt8] = []
            builder.writeCanonicalJSON(for: event, accepted, context: context, to: &written)
            let record = try builder.record(for: event, index: 2, context: context)
            #expect(String(decoding: written, as: UTF8.self) == String(decoding: try record.canonicalJSON(), as: UTF8.self))
            #expect(accepted.eventID == record.eventID)
        }
    }

    @Test func anUnnamedSourceIsNamedAfterTheExecutable() throws {
        let event = try ApplicationEventTests.validate(#"{"eventName":"A"}"#)
        #expect(try builder.record(for: event, index: 0, peer: peer, fallbackRequestID: "x", now: Date()).eventSource == "billing.local")
    }
}
