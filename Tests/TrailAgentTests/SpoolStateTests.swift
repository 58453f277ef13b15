// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore

@testable import TrailAgent

/// The spool's decisions without a disk.
struct SpoolStateTests {
    typealias Segment = SpoolState.Segment
    static let header = SpoolFrame.headerSize

    static func state(
        _ segments: [Segment], policy: SpoolConfiguration.FullPolicy = .block, maxBytes: Int = 1 << 20, segmentBytes: Int = 64 * 1024,
        acknowledged: SpoolPosition = SpoolPosition(segment: 0, offset: 0), records: Int = 0
    ) -> SpoolState {
        var counters = SpoolCounters()
        counters.received = records
        return SpoolState(
            segments: segments, acknowledged: acknowledged, counters: counters, recordsInSpool: records, checkpoints: [:],
            configuration: SpoolConfiguration(directory: "/unused", maxBytes: maxBytes, fullPolicy: policy, segmentBytes: segmentBytes))
    }

    /// received = acknowledged + waiting + dropped + dead-lettered.
    static func reconciles(_ state: SpoolState) -> Bool {
        let counters = state.counters
        return counters.received == counters.acknowledged + state.recordsInSpool + counters.droppedFull + counters.deadLettered
    }

    @Test func underBlockAWriteThatWouldOverfillIsRefusedCountingWhatIsQueued() {
        var state = Self.state([Segment(number: 1, size: 600_000)], maxBytes: 1_000_000)
        let first = state.admit(bytes: 300_000)
        let second = state.admit(bytes: 200_000)  // 600 + 300 queued + 200 > 1000
        #expect(first == .queue && second == .refuse)
        #expect(state.counters.refusedFull == 1)
        state.takePending()
        state.committed(bytes: 300_000, records: 3, checkpoints: [])
        let fits = state.admit(bytes: 100_000)
        let over = state.admit(bytes: 1)
        #expect(fits == .queue && over == .refuse)
        // drop_oldest never refuses.
        var dropping = Self.state([Segment(number: 1, size: 999_999)], policy: .dropOldest, maxBytes: 1_000_000)
        let dropped = dropping.admit(bytes: 10_000)
        #expect(dropped == .queue)
    }

    @Test func aCommitGrowsTheActiveSegmentAndKeepsTheLatestCheckpointOfEachSource() {
        var state = Self.state([Segment(number: 1, size: Self.header)])
        state.committed(bytes: 100, records: 2, checkpoints: [("journal", "s=1"), ("file:/a", "offset=5")])
        state.committed(bytes: 50, records: 1, checkpoints: [("journal", "s=2")])
        #expect(state.active.size == Self.header + 150 && state.counters.received == 3 && state.recordsInSpool == 3)
        #expect(state.persisted.checkpoints == ["journal": "s=2", "file:/a": "offset=5"])
        #expect(Self.reconciles(state))
    }

    @Test func anAcknowledgementCountsEachRecordOnceAndFreesTheSegmentsBehindIt() throws {
        var state = Self.state(
            [Segment(number: 1, size: 1000), Segment(number: 2, size: 1000), Segment(number: 3, size: 500)], records: 6)
        let positions = [SpoolPosition(segment: 1, offset: 32), SpoolPosition(segment: 1, offset: 500), SpoolPosition(segment: 2, offset: 32)]
        let moved = state.advance(to: SpoolPosition(segment: 2, offset: 600), positions: positions, as: .acknowledged(duplicates: 5))
        let advance = try #require(moved)
        #expect(advance.deletable == [1] && advance.state.acknowledged == SpoolPosition(segment: 2, offset: 600))
        #expect(state.counters.acknowledged == 3 && state.counters.duplicates == 3 && state.recordsInSpool == 3)
        // Sent again (a retry after a lost answer): the position does not move, nothing is counted.
        let again = state.advance(to: SpoolPosition(segment: 2, offset: 600), positions: positions, as: .acknowledged(duplicates: 0))
        #expect(again == nil && state.counters.acknowledged == 3)
        state.deleted(advance.deletable)
        // Past the end of segment 2: it goes; the active one never does.
        let refused = state.advance(to: SpoolPosition(segment: 3, offset: 500), positions: [SpoolPosition(segment: 3, offset: 32)], as: .deadLettered)
        let rest = try #require(refused)
        #expect(rest.deletable == [2] && state.counters.deadLettered == 1)
        state.deleted(rest.deletable)
        #expect(state.segments.map(\.number) == [3] && Self.reconciles(state))
    }

    @Test func dropOldestDropsWholeOldSegmentsCountingOnlyWhatWasNotAcknowledged() throws {
        var state = Self.state(
            [Segment(number: 1, size: 400), Segment(number: 2, size: 400), Segment(number: 3, size: 200)], policy: .dropOldest, maxBytes: 1100,
            acknowledged: SpoolPosition(segment: 1, offset: 100), records: 5)
        #expect(state.segmentToDrop(incoming: 100) == nil)  // 1000 + 100 fits
        let oldest = try #require(state.segmentToDrop(incoming: 200))
        #expect(oldest.number == 1)
        let dropped = state.drop(oldest, records: [(32, "t0"), (100, "t1"), (200, "t2")])
        let drop = try #require(dropped)
        #expect(drop.records.map(\.eventTime) == ["t1", "t2"])  // the one before the position was acknowledged
        #expect(drop.state.acknowledged == SpoolPosition(segment: 2, offset: 0) && state.counters.droppedFull == 2)
        // Chosen, then acknowledged and deleted by the shipper before the drop: nothing happens.
        let late = state.drop(oldest, records: [(32, nil)])
        #expect(late == nil && state.counters.droppedFull == 2)
        #expect(Self.reconciles(state))
        // The active segment is never dropped.
        var alone = Self.state([Segment(number: 9, size: 5000)], policy: .dropOldest, maxBytes: 1000)
        let admitted = alone.admit(bytes: 100)
        #expect(alone.segmentToDrop(incoming: 100) == nil && admitted == .queue)
    }

    @Test func aLargeFullyAcknowledgedActiveSegmentIsRecycledAndAFullOneRotated() {
        let size = SpoolState.recycleThreshold + 10
        var state = Self.state([Segment(number: 4, size: size)], segmentBytes: 1 << 30, acknowledged: SpoolPosition(segment: 4, offset: size - 1))
        #expect(!state.shouldRecycleActive)  // one record still waits
        _ = state.advance(to: SpoolPosition(segment: 4, offset: size), positions: [SpoolPosition(segment: 4, offset: size - 1)], as: .deadLettered)
        #expect(state.shouldRecycleActive)
        let renumbered = state.recycledActive()
        #expect(renumbered == 5 && state.active == Segment(number: 5, size: Self.header) && !state.shouldRecycleActive)
        var full = Self.state([Segment(number: 1, size: 64 * 1024)])
        #expect(full.shouldRotate && full.nextSegmentNumber == 2)
        full.rotated(to: 2)
        #expect(full.segments.map(\.number) == [1, 2] && !full.shouldRotate)
    }
}
