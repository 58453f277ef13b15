// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

/// The one way into the sink: back-pressure, checkpoints, counters, readiness.
struct SourceContextTests {
    static func context(_ sink: MemorySink, readiness: SourceReadiness? = nil) -> SourceContext {
        SourceContext(
            name: "file:/var/log/auth.log", sink: sink, readiness: readiness, logger: Logger(label: "test"), retryInterval: .milliseconds(1))
    }

    static func batch(_ names: [String]) -> SourceBatch {
        SourceBatch(names.map { Data(#"{"eventName":"\#($0)"}"#.utf8) })
    }

    @Test func aCommitWaitsWhileTheSinkIsFullAndLandsOnce() async throws {
        let sink = MemorySink()
        let context = Self.context(sink)
        sink.refuse(next: 3)
        try await context.commit(Self.batch(["A", "B"]), checkpoint: "offset=42")
        let state = sink.snapshot
        #expect(state.refused == 3)
        #expect(state.records.map { String(decoding: $0, as: UTF8.self) } == [#"{"eventName":"A"}"#, #"{"eventName":"B"}"#])
        #expect(state.latest == ["file:/var/log/auth.log": "offset=42"])
        #expect(context.counters == .init(read: 0, records: 2, refusals: 3))
    }

    @Test func aCancelledCommitStopsRetryingAndCommitsNothing() async throws {
        let sink = MemorySink()
        let context = Self.context(sink)
        sink.refuse(next: .max)
        let task = Task { try await context.commit(Self.batch(["A"]), checkpoint: "offset=1") }
        // Cancelled once it is known to be retrying.
        while sink.snapshot.refused < 2 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(sink.snapshot.records.isEmpty && sink.snapshot.latest.isEmpty)
    }

    @Test func aThreadWaitingOnARefusedBatchGivesUpWhenStopping() throws {
        let sink = MemorySink()
        let context = Self.context(sink)
        sink.refuse(next: 2)
        let attempts = Mutex(0)
        // Stops after the second refusal: nothing committed, `false`.
        let gaveUp = context.wait(
            for: context.start(Self.batch(["A"])),
            stopping: {
                attempts.withLock {
                    $0 += 1; return $0 == 2
                }
            })
        #expect(!gaveUp && sink.snapshot.records.isEmpty)
        // Retried until committed when not stopping.
        sink.refuse(next: 2)
        #expect(context.wait(for: context.start(Self.batch(["B"]), checkpoint: "offset=7"), stopping: { false }))
        #expect(sink.snapshot.records.count == 1 && sink.snapshot.latest["file:/var/log/auth.log"] == "offset=7")
    }

    @Test func anOfferTriesOnceAndSaysWhy() async throws {
        let sink = MemorySink()
        let context = Self.context(sink)
        sink.refuse(next: 1)
        await #expect(throws: RecordSinkFull.self) { try await context.commitOnce(Self.batch(["A"])) }
        try await context.commitOnce(Self.batch(["A"]))
        #expect(sink.snapshot.records.count == 1 && context.counters == .init(read: 0, records: 1, refusals: 1))
    }

    @Test func aSourceResumesFromItsOwnCheckpointAndReportsItsReadiness() {
        let sink = MemorySink(checkpoints: ["file:/var/log/auth.log": "offset=9", "journal": "s=1"])
        let readiness = SourceReadiness()
        let context = Self.context(sink, readiness: readiness)
        #expect(context.savedCheckpoint == "offset=9")
        #expect(!readiness.isSettled)
        context.markReady()
        #expect(readiness.isSettled && readiness.report == ["file:/var/log/auth.log": "ready"])
    }
}
