// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailCollector

/// The collector's endpoints in memory (HummingbirdTesting's router client): refusals and their
/// shapes, authentication by certificate and by signature, the scope each reads. The
/// certificate a connection presented is handed in, as TLS would have verified it.
struct CollectorRoutesTests {
    let directory: TemporaryDirectory
    let store: SQLiteEventStore
    /// What the ingest pipeline handed on: every stored batch, the collector's own records too.
    let consumer = RecordingConsumer()
    var configuration = CollectorConfiguration(accountID: "123456789012", region: "eu-west-1", trailName: "t")

    init() throws {
        directory = try TemporaryDirectory(prefix: "routes")
        store = try SQLiteEventStore(path: directory.file("events.sqlite"))
        configuration.accessKeys = AccessKeys([AccessKey(id: "AKIDEXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")])
        configuration.fleetReaders = ["auditor"]
    }

    /// The routes as a client presenting `certificate` (none: `nil`) meets them.
    func application(as certificate: ClientCertificate?, revocations: String? = nil) throws -> some ApplicationProtocol {
        var path: String?
        if let revocations {
            path = directory.file("revoked")
            try Data(revocations.utf8).write(to: URL(fileURLWithPath: path!))
        }
        let revoked = try RevokedHosts(path: path, logger: Logger(label: "test"))
        let router = Router(context: CollectorRequestContext.self)
        CollectorRoutes(
            configuration: configuration, pipeline: IngestPipeline(store: store, consumers: [consumer]), revoked: revoked,
            readCertificate: { _ in certificate }
        ).register(on: router)
        return Application(router: router)
    }

    static func host(_ name: String) -> ClientCertificate { ClientCertificate(commonName: name, serialNumber: "01") }

    static func batch(_ records: [CloudTrailRecord]) throws -> ByteBuffer {
        let members = try records.map { try JSONValue.parse(Data($0.canonicalJSON())) }
        return ByteBuffer(bytes: JSONValue.object(["Records": .array(members)]).serialized())
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(Data(response.body.readableBytesView))
    }

    /// An ingest refusal's code; a CloudTrail error's type; the event names of a lookup.
    static func errorCode(_ response: TestResponse) -> String? { (try? json(response))?["error"]?["code"]?.stringValue }
    static func errorType(_ response: TestResponse) -> String? { (try? json(response))?["__type"]?.stringValue }
    static func names(_ response: TestResponse) throws -> [String] {
        try json(response)["Events"]?.arrayValue?.compactMap { $0["EventName"]?.stringValue }.sorted() ?? []
    }

    static let lookupTarget = HTTPField.Name("X-Amz-Target")!

    @Test func aBatchNeedsAHostCertificateAndNamesEveryRecordItRefuses() async throws {
        defer { directory.remove() }
        try await application(as: nil).test(.router) { client in
            let response = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([]))
            #expect(response.status == .forbidden)
            #expect(try Self.json(response)["error"]?["code"] == "ClientCertificateRequired")
        }
        try await application(as: Self.host("web-01")).test(.router) { client in
            let good = CollectorTestRecords.record(name: "Good", index: 1)
            var bad = CollectorTestRecords.record(name: "Bad", index: 2)
            bad.eventName = "Bad\u{1B}[2J"
            let refused = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([good, bad]))
            #expect(refused.status == .badRequest)
            let body = try Self.json(refused)
            #expect(body["error"]?["code"] == "InvalidRecords")
            #expect(body["refused"]?.arrayValue?.map { $0["index"]?.integerValue } == [1])
            let stored = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([good]))
            #expect(stored.status == .ok)
            #expect(try Self.json(stored) == ["accepted": 1, "duplicates": 0])
            let again = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([good]))
            #expect(try Self.json(again) == ["accepted": 0, "duplicates": 1])
            // The collector's own records are no host's to write.
            var forged = CollectorTestRecords.record(name: "EventIDCollision", index: 3)
            forged.eventSource = "collector.hosttrail"
            let reserved = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([forged]))
            #expect(reserved.status == .forbidden && Self.errorCode(reserved) == "ReservedEventSource")
            let deflated = try await client.execute(
                uri: "/v1/records", method: .post, headers: [.contentEncoding: "deflate"], body: try Self.batch([good]))
            #expect(deflated.status == .unsupportedMediaType)
        }
        // The stored record went on to the consumers once (the batch sent again was all duplicates); no refused one did.
        #expect(consumer.names == ["Good"])
        try await application(as: Self.host("collector")).test(.router) { client in
            let response = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([]))
            #expect(response.status == .forbidden && Self.errorCode(response) == "ReservedHostName")
        }
    }

    @Test func overloadSaysWhenToComeBack() async throws {
        defer { directory.remove() }
        var routes = self
        routes.configuration.maxConcurrentIngest = 0
        try await routes.application(as: Self.host("web-01")).test(.router) { client in
            let response = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([]))
            #expect(response.status == .serviceUnavailable && response.headers[.retryAfter] == "1")
            #expect(try Self.json(response)["error"]?["code"] == "Overloaded")
        }
    }

    @Test func aRevokedHostIsRefusedAndItsAttemptRecorded() async throws {
        defer { directory.remove() }
        try await application(as: Self.host("web-03"), revocations: "cn:web-03\n").test(.router) { client in
            let response = try await client.execute(uri: "/v1/records", method: .post, body: try Self.batch([]))
            #expect(response.status == .forbidden && Self.errorCode(response) == "HostRevoked")
            let lookup = try await client.execute(uri: "/", method: .post, headers: [Self.lookupTarget: CloudTrailAPI.targetPrefix + "LookupEvents"])
            #expect(lookup.status == .forbidden && Self.errorType(lookup) == "AccessDeniedException")
        }
        let page = try await store.lookup(
            EventQuery(
                filters: [.init(key: .eventName, value: "DeliverRecords")], startTime: nil, endTime: nil, insights: false, limit: 5, after: nil))
        #expect(page.records.map(\.host) == ["web-03"])
        #expect(consumer.names == ["DeliverRecords"])
    }

    @Test func theAPIReadsWhatTheCallerMayAndAnswersInCloudTrailsShapes() async throws {
        defer { directory.remove() }
        for host in ["web-01", "web-02"] {
            _ = try await store.insert([try CollectorTestRecords.stored(CollectorTestRecords.record(name: "On-\(host)", host: host), host: host)])
        }
        let lookup: HTTPFields = [Self.lookupTarget: CloudTrailAPI.targetPrefix + "LookupEvents", .contentType: "application/x-amz-json-1.1"]
        // Neither a signature nor a certificate.
        try await application(as: nil).test(.router) { client in
            let response = try await client.execute(uri: "/", method: .post, headers: lookup)
            #expect(response.status == .forbidden)
            #expect(try Self.json(response)["__type"] == "MissingAuthenticationTokenException")
            #expect(response.headers[CloudTrailEndpoint.requestIDField]?.count == 36)
            #expect(response.headers[.contentType] == "application/x-amz-json-1.1")
        }
        // A host's certificate reads its own host; a fleet reader's, every host.
        try await application(as: Self.host("web-02")).test(.router) { client in
            let own = try await client.execute(uri: "/", method: .post, headers: lookup)
            #expect(try Self.names(own) == ["On-web-02"])
            let unknown = try await client.execute(uri: "/", method: .post, headers: [Self.lookupTarget: "Nope"])
            #expect(unknown.status == .badRequest && Self.errorType(unknown) == "UnknownOperationException")
        }
        try await application(as: Self.host("auditor")).test(.router) { client in
            let response = try await client.execute(uri: "/", method: .post, headers: lookup)
            #expect(try Self.names(response) == ["On-web-01", "On-web-02"])
        }
        // A SigV4-signed call, as any SDK makes it; a wrong secret is refused.
        try await application(as: nil).test(.router) { client in
            for (secret, status) in [("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", HTTPResponse.Status.ok), ("wrong-secret-of-20-chars", .forbidden)] {
                let body = Data("{}".utf8)
                let unsigned: [(name: String, value: String)] = [
                    ("host", "localhost"), ("x-amz-target", CloudTrailAPI.targetPrefix + "LookupEvents"),
                    ("content-type", "application/x-amz-json-1.1"),
                ]
                let signed = SigV4.sign(
                    method: "POST", path: "/", headers: unsigned, body: body, accessKeyID: "AKIDEXAMPLE", secret: secret, region: "eu-west-1",
                    service: "cloudtrail", now: Date())
                var headers = HTTPFields()
                for (name, value) in unsigned + signed { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
                let response = try await client.execute(uri: "/", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                #expect(response.status == status, "\(String(buffer: response.body))")
                if status == .ok { #expect(try Self.names(response) == ["On-web-01", "On-web-02"]) }
            }
        }
    }
}
