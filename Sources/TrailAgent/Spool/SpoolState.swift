// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// The spool's bookkeeping without its files: the segments and their sizes, the acknowledgement
/// position, the counters, each source's latest checkpoint and the bytes queued. Every decision
/// about them is made here, in the manner of postgres-nio's pool state machine: a mutating call
/// changes the state and returns what ``Spool`` (the driver) must then do on disk. No I/O and no
/// locks; the driver holds its lock around each call and does the I/O outside it.
struct SpoolState: Sendable {
    struct Segment: Sendable, Hashable {
        var number: UInt64
        /// Bytes durably written (header included).
        var size: Int
    }

    private(set) var segments: [Segment]
    private(set) var acknowledged: SpoolPosition
    private(set) var counters: SpoolCounters
    /// Valid records not yet acknowledged, dropped or dead-lettered.
    private(set) var recordsInSpool: Int
    /// The latest committed checkpoint of each source (in the state file with every
    /// acknowledgement, so deleting or recycling a segment never takes a source's place with it).
    private(set) var latestCheckpoints: [String: String]
    /// Bytes submitted and not yet taken by the committer.
    private(set) var pendingBytes = 0
    let maxBytes: Int
    let segmentBytes: Int
    let fullPolicy: SpoolConfiguration.FullPolicy

    /// An active segment this large whose records are all acknowledged is recycled before the next write.
    static let recycleThreshold = 256 * 1024

    init(
        segments: [Segment], acknowledged: SpoolPosition, counters: SpoolCounters, recordsInSpool: Int, checkpoints: [String: String],
        configuration: SpoolConfiguration
    ) {
        precondition(!segments.isEmpty, "the spool always has an active segment")
        self.segments = segments
        self.acknowledged = acknowledged
        self.counters = counters
        self.recordsInSpool = recordsInSpool
        latestCheckpoints = checkpoints
        maxBytes = configuration.maxBytes
        segmentBytes = configuration.segmentBytes
        fullPolicy = configuration.fullPolicy
    }

    var usedBytes: Int { segments.reduce(0) { $0 + $1.size } }
    var active: Segment { segments[segments.count - 1] }

    /// What the state file is to hold now.
    var persisted: SpoolStateFile.State {
        SpoolStateFile.State(acknowledged: acknowledged, counters: counters, checkpoints: latestCheckpoints.isEmpty ? nil : latestCheckpoints)
    }

    // MARK: - Queueing and committing

    enum Admission: Equatable {
        case queue
        /// Full under the `block` policy: the writer is told so (``RecordSinkFull``).
        case refuse
    }

    /// A writer submits `bytes` (frames and checkpoint).
    mutating func admit(bytes: Int) -> Admission {
        if fullPolicy == .block && usedBytes + pendingBytes + bytes > maxBytes {
            counters.refusedFull += 1
            return .refuse
        }
        pendingBytes += bytes
        return .queue
    }

    /// The committer takes everything queued.
    mutating func takePending() {
        pendingBytes = 0
    }

    /// Whether the active segment is to be emptied and renumbered before the next write: it is
    /// large and everything in it is acknowledged.
    var shouldRecycleActive: Bool {
        active.size >= Self.recycleThreshold && acknowledged >= SpoolPosition(segment: active.number, offset: active.size)
    }

    /// The active segment was emptied and renumbered.
    mutating func recycledActive() -> UInt64 {
        let next = active.number + 1
        segments[segments.count - 1] = Segment(number: next, size: SpoolFrame.headerSize)
        return next
    }

    /// Whether the next write goes to a new segment.
    var shouldRotate: Bool { active.size >= segmentBytes }

    /// The number the next segment gets.
    var nextSegmentNumber: UInt64 { active.number + 1 }

    /// A new active segment was made.
    mutating func rotated(to number: UInt64) {
        precondition(number > active.number)
        segments.append(Segment(number: number, size: SpoolFrame.headerSize))
    }

    /// Where the next commit goes in the active segment, and how much room `maxBytes` leaves past it.
    func commitPlace(bytes: Int) -> (offset: Int, room: Int) {
        (active.size, maxBytes - usedBytes - bytes)
    }

    /// A group of `records` in `bytes` is durable in the active segment, with these checkpoints.
    mutating func committed(bytes: Int, records: Int, checkpoints: [(source: String, position: String)]) {
        segments[segments.count - 1].size += bytes
        for checkpoint in checkpoints { latestCheckpoints[checkpoint.source] = checkpoint.position }
        counters.received += records
        recordsInSpool += records
    }

    // MARK: - Dropping (`drop_oldest`)

    /// The oldest segment, when `incoming` bytes do not fit and it is not the active one.
    func segmentToDrop(incoming: Int) -> Segment? {
        guard fullPolicy == .dropOldest, usedBytes + incoming > maxBytes, segments.count > 1 else { return nil }
        return segments[0]
    }

    struct Drop: Sendable {
        /// The unacknowledged records dropped, with their event times where readable.
        var records: [(offset: Int, eventTime: String?)]
        /// To write before the segment's file is deleted.
        var state: SpoolStateFile.State
    }

    /// Drops `segment`, whose record frames start at `recordOffsets`; `nil` when it is no longer
    /// the oldest (acknowledged and deleted since it was chosen). Records already acknowledged
    /// are not counted.
    mutating func drop(_ segment: Segment, records: [(offset: Int, eventTime: String?)]) -> Drop? {
        guard segments.first?.number == segment.number, segments.count > 1 else { return nil }
        let unacknowledged = records.filter { SpoolPosition(segment: segment.number, offset: $0.offset) >= acknowledged }
        acknowledged = max(acknowledged, SpoolPosition(segment: segment.number + 1, offset: 0))
        counters.droppedFull += unacknowledged.count
        recordsInSpool -= unacknowledged.count
        segments.removeFirst()
        return Drop(records: unacknowledged, state: persisted)
    }

    // MARK: - Reading and acknowledging

    /// Where reading starts, and the segments to read.
    var readPlan: (start: SpoolPosition, segments: [Segment]) { (acknowledged, segments) }

    struct Advance: Sendable {
        /// To write before any segment is deleted.
        var state: SpoolStateFile.State
        /// Segments wholly before the new position (never the active one): deleted once `state` is durable.
        var deletable: [UInt64]
    }

    enum Outcome {
        case acknowledged(duplicates: Int)
        case deadLettered
    }

    /// The collector has (or refused for good) the records at `positions`, up to `end`; `nil`
    /// when the position does not move. Records a drop already passed over are not counted again.
    mutating func advance(to end: SpoolPosition, positions: [SpoolPosition], as outcome: Outcome) -> Advance? {
        guard end > acknowledged else { return nil }
        let fresh = positions.filter { $0 >= acknowledged }.count
        acknowledged = end
        switch outcome {
        case .acknowledged(let duplicates):
            counters.acknowledged += fresh
            counters.duplicates += min(duplicates, fresh)
        case .deadLettered:
            counters.deadLettered += fresh
        }
        recordsInSpool -= fresh
        return Advance(state: persisted, deletable: acknowledgedSegments)
    }

    /// Segments wholly before the acknowledgement position, never the active one.
    var acknowledgedSegments: [UInt64] {
        segments.dropLast().prefix { segment in
            segment.number < acknowledged.segment || (segment.number == acknowledged.segment && acknowledged.offset >= segment.size)
        }.map(\.number)
    }

    /// Their files are gone.
    mutating func deleted(_ numbers: [UInt64]) {
        segments.removeAll { numbers.contains($0.number) }
    }

    /// Records sent in a request the collector answered.
    mutating func shipped(_ records: Int) {
        counters.shipped += records
    }
}
