// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Logging
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

struct SpoolTests {
    let logger = Logger(label: "test")

    func open(
        _ directory: TemporaryDirectory, maxBytes: Int = 1 << 30, policy: SpoolConfiguration.FullPolicy = .block,
        segmentBytes: Int = 64 * 1024, dropped: (@Sendable (Spool.DropSummary) -> Data?)? = nil
    ) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(directory: directory.path, maxBytes: maxBytes, fullPolicy: policy, segmentBytes: segmentBytes),
            logger: logger, eventsDroppedRecord: dropped ?? { _ in nil })
    }

    static func record(_ n: Int, padding: Int = 0) -> Data {
        Data(#"{"eventTime":"2026-11-24T10:00:00Z","n":\#(n),"pad":"\#(String(repeating: "x", count: padding))"}"#.utf8)
    }

    static func numbers(_ records: [Data]) -> [Int] {
        records.compactMap { (try? JSONDecoder().decode([String: JSONValue].self, from: $0))?["n"] }.compactMap {
            if case .integer(let n) = $0 { return Int(n) }
            return nil
        }
    }

    func drain(_ spool: Spool) throws -> [Data] {
        var all: [Data] = []
        while let batch = try spool.oldest(maxRecords: 7, maxBytes: 1 << 20) {
            all.append(contentsOf: batch.records)
            try spool.acknowledge(batch, duplicates: 0)
        }
        return all
    }

    @Test func recordsComeOutInOrderOnceAndAcknowledgementsSurviveAReopen() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            for n in 0..<30 { try spool.append([Self.record(n)]) }
            let first = try #require(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20))
            #expect(Self.numbers(first.records) == Array(0..<10))
            try spool.acknowledge(first, duplicates: 2)
            #expect(spool.pendingRecords == 20)
            spool.close()
        }
        let reopened = try open(directory)
        #expect(reopened.recovery.recordsInSpool == 20)
        #expect(reopened.recovery.isClean)
        #expect(Self.numbers(try drain(reopened)) == Array(10..<30))
        #expect(try reopened.oldest(maxRecords: 10, maxBytes: 1 << 20) == nil)
        defer { reopened.close() }
        let counters = reopened.currentCounters
        #expect(counters.acknowledged == 30)
        #expect(counters.duplicates == 2)
    }

    /// Batches are read from a segment a window at a time: records that cross a window's end,
    /// and a record larger than the window, come out whole, in order, once.
    @Test func batchesReadAcrossWindowsKeepEveryRecordWhole() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory, segmentBytes: 64 << 20)
        defer { spool.close() }
        for start in stride(from: 0, to: 3000, by: 100) { try spool.append((start..<(start + 100)).map { Self.record($0, padding: 900 + $0 % 97) }) }
        try spool.append([Self.record(3000, padding: Spool.batchReadWindow * 3 / 2)])
        try spool.append((3001..<3100).map { Self.record($0) })
        #expect(3 * 1_000_000 > Spool.batchReadWindow)
        var seen: [Int] = []
        var sizes: [Int] = []
        while let batch = try spool.oldest(maxRecords: 333, maxBytes: 4 << 20) {
            seen += Self.numbers(batch.records)
            sizes.append(batch.records.count)
            #expect(zip(batch.positions, batch.positions.dropFirst()).allSatisfy { $0 < $1 })
            #expect(batch.end > batch.positions.last!)
            try spool.acknowledge(batch, duplicates: 0)
        }
        #expect(seen == Array(0..<3100))
        #expect(sizes.dropLast().allSatisfy { $0 == 333 }, "\(sizes)")
        #expect(spool.pendingRecords == 0)
    }

    @Test func recordsSpanSegmentsAndAcknowledgedSegmentsAreDeleted() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        for n in 0..<200 { try spool.append([Self.record(n, padding: 1000)]) }
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/segments")
        #expect(segments.count > 2)
        #expect(Self.numbers(try drain(spool)) == Array(0..<200))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/segments").count == 1)
        // The active segment keeps taking records after everything before was acknowledged.
        try spool.append([Self.record(999)])
        #expect(Self.numbers(try drain(spool)) == [999])
    }

    @Test func concurrentWritersShareCommitsAndAllComplete() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        let done = DispatchGroup()
        let failures = Mutex(0)
        for n in 0..<500 {
            done.enter()
            spool.append([Self.record(n)]) { result in
                if case .failure = result { failures.withLock { $0 += 1 } }
                done.leave()
            }
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(failures.withLock { $0 } == 0)
        #expect(Set(Self.numbers(try drain(spool))) == Set(0..<500))
    }

    @Test func aSecondSpoolOnTheSameDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let first = try open(directory)
        let error = #expect(throws: AgentError.self) { try open(directory) }
        #expect(error?.code == .spoolLocked)
        #expect(error?.description.contains("in use by another agent") == true)
        first.close()
    }

    @Test func aTornTailIsCutAndEveryWholeRecordKept() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            for n in 0..<10 { try spool.append([Self.record(n)]) }
            spool.close()
        }
        let segment = try lastSegment(directory)
        var frame: [UInt8] = []
        SpoolFrame.append(.record, payload: Array(Self.record(10)), to: &frame)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data(frame.prefix(frame.count / 2)))
        try handle.close()

        let spool = try open(directory)
        defer { spool.close() }
        #expect(spool.recovery.tornTails == 1)
        #expect(spool.recovery.tornBytes == frame.count / 2)
        #expect(Self.numbers(try drain(spool)) == Array(0..<10))
        let report = try SpoolInspector(directory: directory.path).inspect()
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    @Test func flippedBytesCostOnlyTheirRecordAndACopyIsSetAside() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            try spool.append((0..<20).map { Self.record($0) })
            spool.close()
        }
        let segment = try lastSegment(directory)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        let victim = SpoolFrame.scan(bytes).entries[7]
        bytes[victim.offset + 15] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let report = try SpoolInspector(directory: directory.path).inspect()
        #expect(report.problems.count == 1)

        let spool = try open(directory)
        defer { spool.close() }
        #expect(spool.recovery.corruptRanges == 1)
        #expect(spool.recovery.quarantinedSegments.count == 1)
        #expect(Self.numbers(try drain(spool)) == Array(0..<7) + Array(8..<20))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/quarantine").count == 1)
    }

    @Test func aSegmentWithABadHeaderIsSetAsideAndTheAgentStarts() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            try spool.append([Self.record(1)])
            spool.close()
        }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: directory.path + "/segments/00000000000000000000.seg"))
        let spool = try open(directory)
        defer { spool.close() }
        #expect(spool.recovery.quarantinedSegments == ["00000000000000000000.seg"])
        #expect(Self.numbers(try drain(spool)) == [1])
    }

    @Test func checkpointsAreCommittedWithTheirRecords() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            try spool.append([Self.record(1)], checkpoint: (source: "journal", position: "s=abc;i=1"))
            try spool.append([Self.record(2)], checkpoint: (source: "journal", position: "s=abc;i=2"))
            spool.close()
        }
        let spool = try open(directory)
        defer { spool.close() }
        #expect(spool.checkpoints == ["journal": "s=abc;i=2"])
    }

    @Test func checkpointsOutliveTheSegmentsThatHeldThem() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            try spool.append([Self.record(1)], checkpoint: (source: "file:/var/log/auth.log", position: "offset=10"))
            for n in 2..<200 { try spool.append([Self.record(n, padding: 1000)]) }
            try spool.append([], checkpoint: (source: "journal", position: "s=abc;i=9"))
            #expect(Self.numbers(try drain(spool)).count == 199)
            // Every segment holding a checkpoint frame but the active one is gone now.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/segments").count == 1)
            spool.close()
        }
        do {
            // Reopening deletes the last old segment (it is wholly acknowledged) and starts a new one.
            let spool = try open(directory)
            #expect(spool.checkpoints == ["file:/var/log/auth.log": "offset=10", "journal": "s=abc;i=9"])
            spool.close()
        }
        let spool = try open(directory)
        defer { spool.close() }
        #expect(spool.checkpoints == ["file:/var/log/auth.log": "offset=10", "journal": "s=abc;i=9"])
    }

    @Test func theMostFilesAnAgentTailsFitTheStateFile() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        // As large as real file checkpoints get: long paths, big numbers, the time saved.
        let identity = LogFileIdentity(device: .max, inode: .max, head: String(repeating: "f", count: 32), headLength: 256)
        var checkpoint = LogFileCheckpoint(identity: identity, offset: .max)
        checkpoint.savedAt = 1_795_557_090.123456
        for n in 0..<AgentConfiguration.maxTailFiles {
            let path = "/var/log/" + String(repeating: "x", count: 200) + "/\(n).log"
            try spool.append([Self.record(n)], checkpoint: (source: FileTailService.source(path), position: checkpoint.encoded))
        }
        #expect(Self.numbers(try drain(spool)).count == AgentConfiguration.maxTailFiles)  // each acknowledgement writes the state
    }

    @Test func aRecycledSegmentKeepsItsCheckpoints() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        do {
            let spool = try Spool(configuration: SpoolConfiguration(directory: directory.path), logger: logger)
            for n in 0..<300 { try spool.append([Self.record(n, padding: 1000)], checkpoint: (source: "file:x", position: "\(n)")) }
            _ = try drain(spool)
            try spool.append([Self.record(1000)])  // recycles the acknowledged active segment first
            #expect(spool.bytesOnDisk < 4096)
            spool.close()
        }
        let spool = try Spool(configuration: SpoolConfiguration(directory: directory.path), logger: logger)
        defer { spool.close() }
        #expect(spool.checkpoints == ["file:x": "299"])
    }

    @Test func blockPolicyRefusesWhenFullAndLosesNothing() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory, maxBytes: 256 * 1024)
        defer { spool.close() }
        var accepted: [Int] = []
        var refused = 0
        for n in 0..<400 {
            do {
                try spool.append([Self.record(n, padding: 1000)])
                accepted.append(n)
            } catch is RecordSinkFull {
                refused += 1
            }
        }
        #expect(refused > 0)
        #expect(spool.currentCounters.refusedFull == refused)
        #expect(spool.bytesOnDisk <= 256 * 1024)
        #expect(Self.numbers(try drain(spool)) == accepted)
        // Room again once shipped.
        try spool.append([Self.record(1000)])
    }

    @Test func dropOldestMakesRoomAccountsForEveryDropAndReconciles() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let summaries = Mutex<[Spool.DropSummary]>([])
        let spool = try open(directory, maxBytes: 256 * 1024, policy: .dropOldest) { summary in
            summaries.withLock { $0.append(summary) }
            return Data(#"{"eventName":"EventsDropped","count":\#(summary.count)}"#.utf8)
        }
        defer { spool.close() }
        for n in 0..<600 { try spool.append([Self.record(n, padding: 1000)]) }
        #expect(spool.bytesOnDisk <= 256 * 1024 + 64 * 1024)
        let counters = spool.currentCounters
        let dropped = summaries.withLock { $0.reduce(0) { $0 + $1.count } }
        #expect(counters.droppedFull == dropped)
        #expect(dropped > 0)
        #expect(summaries.withLock { $0.first?.firstEventTime } == "2026-11-24T10:00:00Z")
        let remaining = try drain(spool)
        let kept = Self.numbers(remaining)
        let dropRecords = remaining.filter { String(decoding: $0, as: UTF8.self).contains("EventsDropped") }.count
        // What is kept is the newest, in order; every record is kept or counted as dropped (older
        // EventsDropped records can themselves be dropped by a later drop; the counter keeps them).
        let written = summaries.withLock { $0.count }
        #expect(kept == Array((600 - kept.count)..<600))
        #expect(kept.count + dropRecords + dropped == 600 + written)
        let final = spool.currentCounters
        #expect(final.received == final.acknowledged + spool.pendingRecords + final.droppedFull + final.deadLettered)
        #expect(final.received == 600 + written)
    }

    /// The shipper acknowledging (state write, fsync, unlink outside the writers' lock) while a
    /// writer fills a small `drop_oldest` spool: every record is acknowledged, waiting or counted
    /// dropped, now and after a reopen, and no acknowledged record is counted as dropped.
    @Test func acknowledgementsAndDropsRacingStillReconcile() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        var spool = try open(directory, maxBytes: 256 * 1024, policy: .dropOldest, segmentBytes: 32 * 1024)
        let writing = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [spool] in
            // Ten records a commit, against the reader's five an acknowledgement: the spool fills.
            for start in stride(from: 0, to: 2000, by: 10) { try? spool.append((start..<(start + 10)).map { Self.record($0, padding: 600) }) }
            writing.signal()
        }
        var acknowledged = 0
        var writerDone = false
        while !writerDone {
            writerDone = writing.wait(timeout: .now()) == .success
            guard let batch = try spool.oldest(maxRecords: 5, maxBytes: 1 << 20) else { continue }
            // Acknowledged once the writer has committed 30 more: the spool fills, and the batch
            // may be dropped before it is acknowledged.
            let received = spool.currentCounters.received
            while !writerDone && spool.currentCounters.received < received + 30 { writerDone = writing.wait(timeout: .now()) == .success }
            try spool.acknowledge(batch, duplicates: 0)
            acknowledged += batch.records.count
        }
        let counters = spool.currentCounters
        #expect(counters.received == 2000)
        #expect(counters.received == counters.acknowledged + spool.pendingRecords + counters.droppedFull)
        #expect(counters.acknowledged <= acknowledged && counters.acknowledged > 0 && counters.droppedFull > 0)
        spool.close()
        spool = try open(directory, maxBytes: 256 * 1024, policy: .dropOldest, segmentBytes: 32 * 1024)
        defer { spool.close() }
        let reopened = spool.currentCounters
        #expect(reopened.received == reopened.acknowledged + spool.pendingRecords + reopened.droppedFull)
        #expect(spool.bytesOnDisk <= 256 * 1024 + 64 * 1024)
    }

    @Test func deadLetteredBatchesLeaveTheQueueWithTheirReason() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        try spool.append([Self.record(1), Self.record(2)])
        try spool.deadLetter(try #require(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20)), reason: "HTTP 403: HostMismatch")
        #expect(try spool.oldest(maxRecords: 10, maxBytes: 1 << 20) == nil)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/dead-letter")
        let reason = try String(contentsOfFile: directory.path + "/dead-letter/" + #require(names.first { $0.hasSuffix(".reason") }), encoding: .utf8)
        #expect(reason.contains("HostMismatch"))
        #expect(spool.currentCounters.deadLettered == 2)
        let stats = try SpoolInspector(directory: directory.path).inspect()
        #expect(stats.deadLetterBatches == 1)
        #expect(stats.inUseByAgent)
    }

    func lastSegment(_ directory: TemporaryDirectory) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/segments").sorted()
        // The newest segment is the empty one opened by close-time? No: close opens nothing; pick the
        // last segment that holds records.
        for name in names.reversed() {
            let path = directory.path + "/segments/" + name
            if (try Data(contentsOf: URL(fileURLWithPath: path))).count > SpoolFrame.headerSize { return path }
        }
        throw AgentError(.spoolIO, "no segment with records")
    }
}

extension Spool.Batch: Equatable {
    public static func == (lhs: Spool.Batch, rhs: Spool.Batch) -> Bool {
        lhs.records == rhs.records && lhs.end == rhs.end
    }
}

struct SpoolStateFileTests {
    @Test func aTornSlotFallsBackToTheOtherOne() throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        var counters = SpoolCounters()
        do {
            let file = try SpoolStateFile(directory: directory.path)
            #expect(file.current == nil)
            counters.acknowledged = 5
            try file.write(.init(acknowledged: SpoolPosition(segment: 1, offset: 100), counters: counters))
            counters.acknowledged = 9
            try file.write(.init(acknowledged: SpoolPosition(segment: 1, offset: 200), counters: counters))
        }
        #expect(SpoolStateFile.read(directory: directory.path)?.acknowledged == SpoolPosition(segment: 1, offset: 200))
        // Damage the newer slot (sequence 2 lives in slot 0): the older state is what survives.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: directory.file("state")))
        try handle.seek(toOffset: 20)
        handle.write(Data([0xFF, 0xFF]))
        try handle.close()
        let survivor = try #require(SpoolStateFile.read(directory: directory.path))
        #expect(survivor.acknowledged == SpoolPosition(segment: 1, offset: 100))
        #expect(survivor.counters.acknowledged == 5)
        #expect(try FileManager.default.attributesOfItem(atPath: directory.file("state"))[.size] as? Int == 8192)
    }

    @Test func aFullyAcknowledgedActiveSegmentIsRecycledInPlace() throws {
        let directory = try TemporaryDirectory(prefix: "spool")
        defer { directory.remove() }
        let spool = try Spool(configuration: SpoolConfiguration(directory: directory.path), logger: Logger(label: "test"))
        defer { spool.close() }
        for n in 0..<300 { try spool.append([SpoolTests.record(n, padding: 1000)]) }
        while let batch = try spool.oldest(maxRecords: 100, maxBytes: 1 << 20) { try spool.acknowledge(batch, duplicates: 0) }
        #expect(spool.bytesOnDisk > SpoolState.recycleThreshold)
        try spool.append([SpoolTests.record(1000)])
        #expect(spool.bytesOnDisk < 4096, "the acknowledged segment was emptied before the next write")
        let batch = try #require(try spool.oldest(maxRecords: 100, maxBytes: 1 << 20))
        #expect(SpoolTests.numbers(batch.records) == [1000])
    }
}
