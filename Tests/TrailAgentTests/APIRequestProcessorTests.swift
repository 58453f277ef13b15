// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

/// The application socket's requests, answered in memory: no socket, no spool.
struct APIRequestProcessorTests {
    let sink = MemorySink()
    let readiness = SourceReadiness()
    let processor: APIRequestProcessor
    let spoolDirectory: TemporaryDirectory
    static let peer = PeerCredentials(pid: 4242, uid: 1000, gid: 1000, userName: "alice")

    init() throws {
        spoolDirectory = try TemporaryDirectory(prefix: "health")
        let spool = try Spool(configuration: SpoolConfiguration(directory: spoolDirectory.path), logger: Logger(label: "test"))
        let host = HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil)
        processor = APIRequestProcessor(
            context: SourceContext(name: "socket", sink: sink, readiness: readiness, logger: Logger(label: "test")),
            builder: LiveValue(ApplicationRecordBuilder(host: host)), rateLimiter: ApplicationRateLimiter(rate: 10, burst: 5),
            health: AgentHealth(spool: spool, shipper: ShipperState(), readiness: readiness), logger: Logger(label: "test"))
    }

    func send(_ method: String, _ path: String, _ body: String = "") async -> APIRequestProcessor.Response {
        let request = APIRequestProcessor.Request(method: method, path: path, contentType: "application/json", body: Data(body.utf8))
        return await withCheckedContinuation { continuation in
            processor.handle(request, peer: Self.peer) { continuation.resume(returning: $0) }
        }
    }

    @Test func acceptedEventsAreCommittedBeforeThe202AndNameTheirIDs() async throws {
        let response = await send(
            "POST", "/v1/events",
            #"{"events":[{"eventSource":"shop.example.com","eventName":"A"},{"eventSource":"shop.example.com","eventName":"B"}]}"#)
        #expect(response.status == 202)
        let ids = try #require(response.body["eventIDs"]?.arrayValue).compactMap(\.stringValue)
        let stored = try sink.snapshot.records.map { try JSONDecoder().decode(CloudTrailRecord.self, from: $0) }
        #expect(stored.map(\.eventName) == ["A", "B"] && stored.map(\.eventID) == ids)
        #expect(stored.allSatisfy { $0.userIdentity?.userName == "alice" })
    }

    @Test func aFullSpoolIsA503ToRetryAndCommitsNothing() async {
        sink.refuse(next: 1)
        let response = await send("POST", "/v1/events", #"{"eventSource":"shop.example.com","eventName":"A"}"#)
        #expect(response.status == 503 && response.headers.contains { $0 == ("Retry-After", "1") })
        #expect(response.body["error"]?["code"]?.stringValue == "SpoolFull")
        #expect(sink.snapshot.records.isEmpty)
    }

    @Test func aPartialRequestStoresTheGoodAndNamesTheBad() async throws {
        let response = await send(
            "POST", "/v1/events?partial=true", #"{"events":[{"eventSource":"shop.example.com","eventName":"A"},{"eventSource":"shop.example.com"}]}"#)
        #expect(response.status == 202)
        let ids = try #require(response.body["eventIDs"]?.arrayValue)
        #expect(ids.count == 2 && ids[0].stringValue != nil && ids[1] == .null)
        #expect(response.body["errors"]?.arrayValue?.first?["index"] == .integer(1))
        #expect(sink.snapshot.records.count == 1)
        // Without `partial`, the same request is refused whole.
        #expect(
            await send("POST", "/v1/events", #"{"events":[{"eventSource":"shop.example.com","eventName":"A"},{"eventSource":"shop.example.com"}]}"#)
                .status
                == 400)
        #expect(sink.snapshot.records.count == 1)
    }

    @Test func aPeerOverItsRateIsToldWhenToRetry() async {
        let events = (0..<5).map { #"{"eventSource":"shop.example.com","eventName":"E\#($0)"}"# }.joined(separator: ",")
        #expect(await send("POST", "/v1/events", "{\"events\":[\(events)]}").status == 202)
        // The burst (5) is spent: the next five wait.
        let response = await send("POST", "/v1/events", "{\"events\":[\(events)]}")
        #expect(response.status == 429 && response.headers.contains { $0.0 == "Retry-After" })
        #expect(sink.snapshot.records.count == 5)
    }

    @Test func healthWaitsForEverySourceThenSaysOK() async {
        readiness.register("journal")
        processor.context.markReady()
        let starting = await send("GET", "/v1/health")
        #expect(starting.status == 503 && starting.body["status"] == "starting")
        readiness.mark("journal", .ready)
        let ready = await send("GET", "/v1/health")
        #expect(ready.status == 200 && ready.body["status"] == "ok" && ready.body["pendingRecords"] == .integer(0))
        #expect(ready.body["sources"]?["journal"] == "ready" && ready.body["spool"]?["fullPolicy"] == "block")
        #expect(await send("DELETE", "/v1/events").status == 405)
        #expect(await send("GET", "/nope").status == 404)
    }
}
