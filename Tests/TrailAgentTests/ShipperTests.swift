// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import CurlTransport
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

/// The shipper's answers to the collector's, against a fake transport and a real spool on disk.
struct ShipperTests {
    /// A collector that answers from a script and keeps what it was sent.
    final class FakeCollector: Sendable {
        /// The answer to a request holding these records (their `n`).
        let answer: @Sendable (_ numbers: [Int], _ attempt: Int) throws -> HTTPSClient.Response
        private let sent = Mutex<[(body: Data, numbers: [Int])]>([])

        init(answer: @escaping @Sendable (_ numbers: [Int], _ attempt: Int) throws -> HTTPSClient.Response) {
            self.answer = answer
        }

        func receive(_ body: Data) throws -> HTTPSClient.Response {
            var buffer = ByteBuffer(bytes: body)
            let plain = try buffer.decompress(with: .gzip())
            let records = try JSONValue.parse(Data(plain.readableBytesView))["Records"]?.arrayValue ?? []
            let numbers = records.compactMap { $0["n"]?.integerValue.map(Int.init) }
            let attempt = sent.withLock { sent in
                sent.append((body, numbers))
                return sent.count
            }
            return try answer(numbers, attempt)
        }

        var requests: [(body: Data, numbers: [Int])] { sent.withLock { $0 } }
    }

    static func accepted(_ count: Int) -> HTTPSClient.Response {
        HTTPSClient.Response(status: 200, body: Data(#"{"accepted":\#(count),"duplicates":0}"#.utf8))
    }

    let directory: TemporaryDirectory
    let spool: Spool

    init() throws {
        directory = try TemporaryDirectory(prefix: "shipper")
        spool = try Spool(
            configuration: SpoolConfiguration(directory: directory.path), logger: Logger(label: "test"), eventsDroppedRecord: { _ in nil })
    }

    func shipper(_ collector: FakeCollector) -> Shipper {
        Shipper(
            spool: spool, replay: SourceContext(name: "dead-letter", sink: spool, readiness: nil, logger: Logger(label: "test")),
            url: "https://collector.invalid/v1/records", transport: { try collector.receive($0) }, maxRecords: 500, maxAge: .milliseconds(10),
            maxBytes: 4 << 20, logger: Logger(label: "test"))
    }

    func spooled(_ count: Int) throws -> Spool.Batch {
        try spool.append((0..<count).map { SpoolTests.record($0) })
        return try #require(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20))
    }

    @Test func a413SplitsTheBatchUntilTheCollectorTakesEachPart() async throws {
        defer {
            spool.close()
            directory.remove()
        }
        let collector = FakeCollector { numbers, _ in numbers.count > 2 ? HTTPSClient.Response(status: 413) : Self.accepted(numbers.count) }
        var kept: Shipper.PreparedBody?
        guard case .delivered = await shipper(collector).ship(try spooled(8), reusing: &kept) else { Issue.record("not delivered"); return }
        #expect(collector.requests.map(\.numbers.count) == [8, 4, 2, 2, 4, 2, 2])
        #expect(collector.requests.filter { $0.numbers.count <= 2 }.flatMap(\.numbers) == Array(0..<8))
        #expect(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20) == nil)
        #expect(spool.currentCounters.acknowledged == 8)
    }

    @Test func a400NamingRecordsDeadLettersThoseAloneAndSendsTheRest() async throws {
        defer {
            spool.close()
            directory.remove()
        }
        let collector = FakeCollector { numbers, _ in
            guard let index = numbers.firstIndex(of: 2) else { return Self.accepted(numbers.count) }
            return HTTPSClient.Response(
                status: 400, body: Data(#"{"refused":[{"index":\#(index),"code":"RecordTooLarge","message":"too large"}]}"#.utf8))
        }
        var kept: Shipper.PreparedBody?
        guard case .delivered = await shipper(collector).ship(try spooled(5), reusing: &kept) else { Issue.record("not delivered"); return }
        #expect(collector.requests.map(\.numbers) == [[0, 1, 2, 3, 4], [0, 1], [3, 4]])
        let deadLetters = try DeadLetters(spoolDirectory: directory.path).list()
        #expect(deadLetters.count == 1 && deadLetters.first?.records == 1)
        #expect(deadLetters.first?.reason.contains("RecordTooLarge") == true)
        #expect(spool.currentCounters.deadLettered == 1 && spool.currentCounters.acknowledged == 4)
    }

    @Test func a503IsRetriedAfterItsRetryAfterWithTheSameBody() async throws {
        defer {
            spool.close()
            directory.remove()
        }
        let collector = FakeCollector { numbers, attempt in
            attempt == 1 ? HTTPSClient.Response(status: 503, headers: ["retry-after": "7"]) : Self.accepted(numbers.count)
        }
        let shipper = shipper(collector)
        let batch = try spooled(3)
        var kept: Shipper.PreparedBody?
        guard case .retry(let after, _) = await shipper.ship(batch, reusing: &kept) else { Issue.record("not retried"); return }
        #expect(after == .seconds(7) && kept != nil)
        #expect(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20)?.records.count == 3)
        guard case .delivered = await shipper.ship(batch, reusing: &kept) else { Issue.record("not delivered"); return }
        #expect(collector.requests.count == 2 && collector.requests[0].body == collector.requests[1].body)
        #expect(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20) == nil)
    }

    @Test func anotherRefusalDeadLettersTheWholeBatch() async throws {
        defer {
            spool.close()
            directory.remove()
        }
        let collector = FakeCollector { _, _ in HTTPSClient.Response(status: 403, body: Data(#"{"code":"HostMismatch"}"#.utf8)) }
        var kept: Shipper.PreparedBody?
        guard case .delivered = await shipper(collector).ship(try spooled(3), reusing: &kept) else { Issue.record("not set aside"); return }
        let deadLetters = try DeadLetters(spoolDirectory: directory.path).list()
        #expect(deadLetters.map(\.records) == [3] && deadLetters.first?.reason.hasPrefix("HTTP 403") == true)
        #expect(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20) == nil)
    }

    @Test func noAnswerIsRetriedAndNothingIsAcknowledged() async throws {
        defer {
            spool.close()
            directory.remove()
        }
        struct Unreachable: Error {}
        let collector = FakeCollector { _, _ in throw Unreachable() }
        var kept: Shipper.PreparedBody?
        guard case .retry(nil, _) = await shipper(collector).ship(try spooled(2), reusing: &kept) else { Issue.record("not retried"); return }
        #expect(try spool.oldest(maxRecords: 500, maxBytes: 4 << 20)?.records.count == 2)
        #expect(spool.currentCounters.acknowledged == 0 && spool.currentCounters.shipped == 0)
    }
}
