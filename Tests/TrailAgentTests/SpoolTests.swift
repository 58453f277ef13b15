// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Testing
import TrailTestSupport

@testable import TrailAgent

struct SpoolTests {
    let logger = Logger(label: "test")

    @Test func appendedBatchesComeOutOldestFirstUntilAcknowledged() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try Spool(directory: directory.path, logger: logger)
        try spool.append([Data(#"{"n":1}"#.utf8), Data(#"{"n":2}"#.utf8)])
        try spool.append([Data(#"{"n":3}"#.utf8)])
        let batches = try spool.oldest(maxRecords: 10, maxBytes: 1 << 20)
        #expect(batches.map(\.records.count) == [2, 1])
        #expect(batches.flatMap(\.records).map { String(decoding: $0, as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        try spool.acknowledge([batches[0]], duplicates: 1)
        #expect(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20).map(\.sequence) == [batches[1].sequence])
        let counters = spool.counters
        #expect(counters.received == 3)
        #expect(counters.spooled == 3)
        #expect(counters.acknowledged == 2)
        #expect(counters.duplicates == 1)
    }

    @Test func batchLimitsTakeWholeBatchesButAlwaysAtLeastOne() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try Spool(directory: directory.path, logger: logger)
        for index in 0..<5 { try spool.append((0..<3).map { Data(#"{"b":\#(index),"r":\#($0)}"#.utf8) }) }
        #expect(try spool.oldest(maxRecords: 7, maxBytes: 1 << 20).count == 2)
        #expect(try spool.oldest(maxRecords: 1, maxBytes: 1 << 20).count == 1)
    }

    @Test func aSecondSpoolOnTheSameDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let first = try Spool(directory: directory.path, logger: logger)
        let error = #expect(throws: AgentError.self) { try Spool(directory: directory.path, logger: logger) }
        #expect(error?.code == .spoolLocked)
        #expect(error?.description.contains("in use by another agent") == true)
        _ = first
    }

    @Test func theLockIsReleasedWithTheSpool() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do { _ = try Spool(directory: directory.path, logger: logger) }
        _ = try Spool(directory: directory.path, logger: logger)
    }

    @Test func recordsSurviveAReopenAndUnfinishedWritesAreDropped() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try Spool(directory: directory.path, logger: logger)
            try spool.append([Data(#"{"kept":true}"#.utf8)])
        }
        // A write the agent died in the middle of: never acknowledged to anyone.
        try Data(#"{"half"#.utf8).write(to: URL(fileURLWithPath: directory.path + "/queue/.tmp-00000000000000000002.ndjson"))
        let spool = try Spool(directory: directory.path, logger: logger)
        #expect(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20).flatMap(\.records) == [Data(#"{"kept":true}"#.utf8)])
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/queue/.tmp-00000000000000000002.ndjson"))
        try spool.append([Data(#"{"next":true}"#.utf8)])
        #expect(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20).map(\.sequence) == [1, 2])
    }

    @Test func deadLetteredBatchesLeaveTheQueueWithTheirReason() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try Spool(directory: directory.path, logger: logger)
        try spool.append([Data(#"{"bad":true}"#.utf8)])
        try spool.deadLetter(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20), reason: "HTTP 403: HostMismatch")
        #expect(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20).isEmpty)
        let reason = try String(contentsOfFile: directory.path + "/dead-letter/00000000000000000001.ndjson.reason", encoding: .utf8)
        #expect(reason.contains("HostMismatch"))
        #expect(spool.counters.deadLettered == 1)
    }
}
