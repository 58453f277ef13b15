// SPDX-License-Identifier: Apache-2.0

import Dispatch
import FoundationEssentials
import Logging
import Synchronization
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's crash-safe disk buffer between sources and the shipper.
///
/// Layout under the spool directory:
/// - `lock`: `flock(2)`ed for the agent's life; a second agent on the same spool is refused.
/// - `segments/<20-digit number>.seg`: a 32-byte header, then frames (length, CRC-32C, kind,
///   payload; see ``SpoolFrame``). Records and source checkpoints share frames, so a checkpoint is
///   committed by the same fsync as the records it covers.
/// - `state`: the acknowledgement position and the lifetime counters (``SpoolStateFile``: two
///   checksummed slots written in place, so an acknowledgement needs no free space). Segments
///   wholly before the position are deleted only after the new state is durable.
/// - `dead-letter/`: batches the collector refused for good, with the reason beside them.
/// - `quarantine/`: copies of segments found damaged at start-up, for an operator.
///
/// Writes go through one committer thread: whatever is pending when it is free is written and
/// fsync'd together (group commit), and only then are the writers told (the socket's `202`).
/// Small commits land in prepared space: the active segment is written ahead with zeros, a
/// megabyte at a time, so a commit overwrites allocated blocks and its `fdatasync` needs no
/// journal commit for a new size (about half the latency on ext4). The zeros fit within
/// `maxBytes` beside the data; ``SpoolFrame/scan(_:from:)`` reads them as the end of the data.
/// Start-up never refuses a spool: a torn tail is cut, corrupt frames are skipped (every valid
/// frame is kept), a segment with a bad header is set aside; all of it is counted, logged and
/// reported in ``recovery`` for an agent record.
///
/// - Important: Call ``close()`` when done: it stops the committer thread and releases the lock.
public final class Spool: RecordSink, @unchecked Sendable {
    // @unchecked: owns file descriptors and a thread; all mutable state is guarded by `condition`.

    /// A run of records read from the queue, with the position just past the last one.
    public struct Batch: Sendable {
        public var records: [Data]
        /// The position of each record's frame.
        public var positions: [SpoolPosition]
        public var end: SpoolPosition
        public var bytes: Int

        /// The records in `range`, as a batch of their own: it ends where the next record starts
        /// (or where this batch ends), so acknowledging it leaves the rest in the spool.
        public func slice(_ range: Range<Int>) -> Batch {
            Batch(
                records: Array(records[range]), positions: Array(positions[range]),
                end: range.upperBound < positions.count ? positions[range.upperBound] : end,
                bytes: records[range].reduce(0) { $0 + $1.count })
        }
    }

    /// What start-up found and repaired.
    public struct Recovery: Sendable, Hashable {
        public var tornTails = 0
        public var tornBytes = 0
        public var corruptRanges = 0
        public var corruptBytes = 0
        public var quarantinedSegments: [String] = []
        /// Valid records waiting to ship when the agent started.
        public var recordsInSpool = 0
        public var isClean: Bool { tornTails == 0 && corruptRanges == 0 && quarantinedSegments.isEmpty }
    }

    /// What a `drop_oldest` drop removed, for the `EventsDropped` record.
    public struct DropSummary: Sendable, Hashable {
        public var count: Int
        public var firstEventTime: String?
        public var lastEventTime: String?
        public var reason: String
    }

    struct PendingWrite {
        var frames: [UInt8]
        /// The checkpoint's frame, written right after `frames` (kept apart: appending it to a
        /// caller's buffer would copy the whole buffer).
        var checkpointFrame: [UInt8] = []
        var records: Int
        var size: Int { frames.count + checkpointFrame.count }
        var checkpoint: (source: String, position: String)? = nil
        var completion: @Sendable (Result<Void, any Error>) -> Void
    }

    public let configuration: SpoolConfiguration
    public let recovery: Recovery
    /// The latest checkpoint of each source found at start-up.
    public let checkpoints: [String: String]
    let segmentsDirectory: String
    let deadLetterDirectory: String
    let quarantineDirectory: String
    private var lockDescriptor: Int32
    private let logger: Logger
    private let eventsDroppedRecord: @Sendable (DropSummary) -> Data?

    private let stateFile: SpoolStateFile
    /// Guards the in-memory state. Writers take it only to queue (``submit(_:checkpoint:completion:)``
    /// runs on event loops): no file is read, written, synced or unlinked while it is held.
    private let condition = PosixCondition()
    /// Serialises what makes the state durable (state-file writes, then segment deletions), taken
    /// before `condition` and held across the I/O: each write holds a snapshot taken under it, so
    /// a later state is never overwritten by an earlier one.
    private let stateWrites = Mutex(())
    /// Segments, positions, counters and checkpoints (``SpoolState``; `condition` held).
    private var state: SpoolState
    private var activeDescriptor: Int32
    /// How far the active segment's file holds written bytes: its data, then prepared zeros
    /// (committer thread only, and ``close()`` once the committer is done).
    private var preparedEnd = SpoolFrame.headerSize
    private var pending: [PendingWrite] = []
    private var closing = false
    private var committerDone = false
    private var committerStarted = false

    /// Opens the spool, locks it, repairs what a crash left, and starts the committer.
    ///
    /// - Parameter eventsDroppedRecord: Builds the canonical `EventsDropped` record for a drop.
    /// - Throws: ``AgentError`` `spool-locked` when another agent holds it, `spool-io` when the
    ///   directory cannot be used at all. Damaged contents never make it throw.
    public init(
        configuration: SpoolConfiguration, logger: Logger,
        eventsDroppedRecord: @escaping @Sendable (DropSummary) -> Data? = { _ in nil }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.eventsDroppedRecord = eventsDroppedRecord
        let directory = configuration.directory
        segmentsDirectory = directory + "/segments"
        deadLetterDirectory = directory + "/dead-letter"
        quarantineDirectory = directory + "/quarantine"
        do {
            for path in [directory, segmentsDirectory, deadLetterDirectory, quarantineDirectory] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            }
        } catch {
            throw AgentError(.spoolIO, "cannot create the spool directory", path: directory, underlyingError: error)
        }
        lockDescriptor = try Self.lock(directory)
        stateFile = try SpoolStateFile(directory: directory)

        var saved = stateFile.current ?? SpoolStateFile.State(acknowledged: SpoolPosition(segment: 0, offset: 0), counters: SpoolCounters())
        var recovery = Recovery()
        // The state file's copy first; any checkpoint still in a segment is as new or newer.
        var checkpoints: [String: String] = saved.checkpoints ?? [:]
        var segments: [SpoolState.Segment] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: segmentsDirectory)) ?? []).sorted()
        let numbered = names.compactMap { name in Self.segmentNumber(name).map { ($0, name) } }
        for (index, (number, name)) in numbered.enumerated() {
            let path = segmentsDirectory + "/" + name
            let bytes = (try? Self.readAll(path)) ?? []
            if case .failure(let problem) = SpoolFrame.parseHeader(bytes) {
                Self.quarantine(path, name: name, into: quarantineDirectory, move: true, logger: logger)
                recovery.quarantinedSegments.append(name)
                logger.error("spool segment has a bad header; set aside", metadata: ["spool.segment": "\(name)", "problem": "\(problem)"])
                continue
            }
            var scan = SpoolFrame.scan(bytes)
            // Prepared zeros past the data are not part of it.
            var size = scan.dataEnd
            if let torn = scan.tornTailOffset {
                if index == numbered.count - 1 {
                    // The write the agent died in; its writers were never told it succeeded.
                    recovery.tornTails += 1
                    recovery.tornBytes += scan.dataEnd - torn
                    Self.truncate(path, to: torn)
                    size = torn
                    logger.warning("cut a torn tail off the spool", metadata: ["spool.segment": "\(name)", "spool.bytes": "\(scan.dataEnd - torn)"])
                } else {
                    scan.corruptRanges.append(torn..<scan.dataEnd)
                }
            }
            if !scan.corruptRanges.isEmpty {
                recovery.corruptRanges += scan.corruptRanges.count
                recovery.corruptBytes += scan.corruptRanges.reduce(0) { $0 + $1.count }
                Self.quarantine(path, name: name, into: quarantineDirectory, move: false, logger: logger)
                recovery.quarantinedSegments.append(name)
                logger.error(
                    "spool segment is damaged; kept every valid record and set a copy aside",
                    metadata: ["spool.segment": "\(name)", "spool.corrupt-bytes": "\(scan.corruptRanges.reduce(0) { $0 + $1.count })"])
            }
            for entry in scan.entries {
                let position = SpoolPosition(segment: number, offset: entry.offset)
                switch entry.kind {
                case .record where position >= saved.acknowledged:
                    recovery.recordsInSpool += 1
                case .checkpoint:
                    if let checkpoint = try? JSONDecoder().decode([String: String].self, from: Data(entry.payload)),
                        let source = checkpoint["source"], let value = checkpoint["position"]
                    {
                        checkpoints[source] = value
                    }
                default:
                    break
                }
            }
            segments.append(SpoolState.Segment(number: number, size: size))
        }
        // Records lost in corrupt ranges cannot be counted exactly; the damage is reported in bytes.
        // `received` is re-derived from what is durable, so the counters reconcile after a crash.
        saved.counters.received =
            saved.counters.acknowledged + saved.counters.droppedFull + saved.counters.droppedCorrupt
            + saved.counters.deadLettered + recovery.recordsInSpool

        // Never append to a segment from before the start: a fresh one begins now.
        let nextNumber = max((segments.last?.number ?? 0) + 1, saved.acknowledged.segment + 1)
        let path = segmentsDirectory + "/" + Self.segmentName(nextNumber)
        let descriptor = try Self.createSegment(path: path, number: nextNumber)
        segments.append(SpoolState.Segment(number: nextNumber, size: SpoolFrame.headerSize))
        do {
            try SystemCall.syncDirectory(segmentsDirectory)
        } catch {
            throw AgentError(.spoolIO, "cannot sync the spool directory", path: segmentsDirectory, underlyingError: error)
        }

        state = SpoolState(
            segments: segments, acknowledged: saved.acknowledged, counters: saved.counters, recordsInSpool: recovery.recordsInSpool,
            checkpoints: checkpoints, configuration: configuration)
        self.activeDescriptor = descriptor
        self.recovery = recovery
        self.checkpoints = checkpoints
        try? write(state.persisted)
        // Segments wholly acknowledged before a crash left them.
        let leftOver = state.acknowledgedSegments
        for number in leftOver { unlink(segmentsDirectory + "/" + Self.segmentName(number)) }
        state.deleted(leftOver)
        try? SystemCall.syncDirectory(segmentsDirectory)

        // The committer holds the spool until ``close()``: a spool lives as long as its agent, and
        // closing is explicit (it also releases the lock).
        do {
            try DedicatedThread.start(name: "ht-spool-commit") { self.commitLoop() }
        } catch {
            // deinit closes the files and releases the lock; there is no committer to wait for.
            throw AgentError(.spoolIO, "cannot start the spool's committer thread", path: directory, underlyingError: error)
        }
        committerStarted = true
    }

    deinit {
        close()
    }

    /// Stops the committer after the writes already queued, closes the files and releases the
    /// lock; later appends fail. Idempotent.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while committerStarted && !committerDone { condition.wait() }
        if activeDescriptor >= 0 {
            // Prepared zeros are not needed once the agent stops (a crash leaves them, harmlessly).
            if preparedEnd > state.active.size { _ = ftruncate(activeDescriptor, off_t(state.active.size)) }
            Glibc.close(activeDescriptor)
            activeDescriptor = -1
        }
        if lockDescriptor >= 0 {
            Glibc.close(lockDescriptor)  // releases the flock
            lockDescriptor = -1
        }
        condition.unlock()
    }

    // MARK: - Writing

    /// Queues `batch` and `checkpoint` for the next group commit; `completion` runs on the
    /// committer thread once they are fsync'd, or with the reason they were not
    /// (``RecordSinkFull`` under the `block` policy). Takes the lock only to queue: no I/O here.
    public func submit(
        _ batch: SourceBatch, checkpoint: (source: String, position: String)?,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let frames = batch.frames
        var checkpointFrame: [UInt8] = []
        if let checkpoint {
            let payload = (try? JSONEncoder().encode(["source": checkpoint.source, "position": checkpoint.position])) ?? Data()
            SpoolFrame.append(.checkpoint, payload: payload, to: &checkpointFrame)
        }
        condition.lock()
        if closing {
            condition.unlock()
            completion(.failure(AgentError(.spoolIO, "the spool is closed")))
            return
        }
        guard state.admit(bytes: frames.count + checkpointFrame.count) == .queue else {
            condition.unlock()
            completion(.failure(RecordSinkFull()))
            return
        }
        pending.append(
            PendingWrite(frames: frames, checkpointFrame: checkpointFrame, records: batch.count, checkpoint: checkpoint, completion: completion))
        condition.signal()
        condition.unlock()
    }

    private func commitLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closing { condition.wait() }
            if pending.isEmpty && closing {
                committerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            if configuration.commitInterval > .zero {
                DedicatedThread.sleep(for: configuration.commitInterval)
            }
            condition.lock()
            var work = pending
            pending = []
            state.takePending()
            condition.unlock()
            var drop: DropSummary?
            if configuration.fullPolicy == .dropOldest {
                drop = makeRoom(for: work.reduce(0) { $0 + $1.size })
                if let drop, let record = eventsDroppedRecord(drop) {
                    var frames: [UInt8] = []
                    SpoolFrame.append(.record, payload: record, to: &frames)
                    work.append(PendingWrite(frames: frames, records: 1, completion: { _ in }))
                }
            }
            condition.lock()
            let recycle = state.shouldRecycleActive
            condition.unlock()

            let result = Result<Void, any Error> {
                if recycle { try recycleActiveSegment() }
                condition.lock()
                let rotate = state.shouldRotate
                condition.unlock()
                try commit(work, rotate: rotate)
            }
            if case .failure(let error) = result {
                logger.error("spool write failed", metadata: ["error": "\(error)"])
            }
            if let drop {
                logger.warning("spool full: dropped the oldest records", metadata: ["spool.dropped": "\(drop.count)"])
            }
            // The frames are released before the completions run: a source that reuses its
            // buffer then finds it uniquely referenced (no copy).
            let completions = work.map(\.completion)
            work = []
            for completion in completions { completion(result) }
        }
    }

    /// Writes and fsyncs a group (on the committer thread only).
    private func commit(_ work: [PendingWrite], rotate: Bool) throws {
        if rotate { try rotateSegment() }
        // One buffer a group; a single large write (a tailed file's chunk) is written as it is.
        let buffers: [[UInt8]]
        if work.count == 1 {
            buffers = [work[0].frames, work[0].checkpointFrame]
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(work.reduce(0) { $0 + $1.size })
            for write in work {
                bytes.append(contentsOf: write.frames)
                bytes.append(contentsOf: write.checkpointFrame)
            }
            buffers = [bytes]
        }
        let total = buffers.reduce(0) { $0 + $1.count }
        condition.lock()
        let descriptor = activeDescriptor
        // Prepared zeros take disk space too: they fit within `maxBytes` with the data, or are not written.
        let (offset, room) = state.commitPlace(bytes: total)
        condition.unlock()
        do {
            var position = offset
            for buffer in buffers {
                try buffer.withUnsafeBytes { raw in
                    var written = 0
                    while written < raw.count {
                        written += try SystemCall.check("pwrite") {
                            pwrite(descriptor, raw.baseAddress! + written, raw.count - written, off_t(position + written))
                        }
                    }
                }
                position += buffer.count
            }
            if position > preparedEnd {
                preparedEnd = position
                if total < Self.preparedChunk / 16 { prepare(descriptor, from: position, room: room) }
            }
            // The size and allocation, when they changed, are what fdatasync also writes.
            try SystemCall.check("fdatasync") { fdatasync(descriptor) }
        } catch {
            // Whatever part landed is past the committed size: cut it, so the next group starts clean.
            _ = ftruncate(descriptor, off_t(offset))
            preparedEnd = offset
            throw AgentError(.spoolIO, "cannot write to the spool", path: segmentsDirectory, underlyingError: error)
        }
        condition.lock()
        state.committed(bytes: total, records: work.reduce(0) { $0 + $1.records }, checkpoints: work.compactMap(\.checkpoint))
        condition.unlock()
    }

    /// How much prepared space a small commit that runs past it writes ahead.
    static let preparedChunk = 1 << 20

    /// Writes zeros from `position` to the next ``preparedChunk`` boundary, or as far as `room`
    /// bytes (what `maxBytes` leaves) go, for the next small commits to overwrite (committer
    /// thread only). Best effort: on a full disk the file is cut back and commits append as they
    /// would without it.
    private func prepare(_ descriptor: Int32, from position: Int, room: Int) {
        let end = min((position / Self.preparedChunk + 1) * Self.preparedChunk, position + room)
        guard end - position >= 64 * 1024 else { return }
        let zeros = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = position
        let written = zeros.withUnsafeBytes { raw -> Bool in
            while offset < end {
                let count = pwrite(descriptor, raw.baseAddress!, min(raw.count, end - offset), off_t(offset))
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        if written {
            preparedEnd = end
        } else {
            _ = ftruncate(descriptor, off_t(position))
        }
    }

    /// Empties the active segment in place once everything in it is acknowledged, and gives it the
    /// next number (committer thread only).
    ///
    /// Truncating, rewriting the 32-byte header and renaming need no free space, so a spool on a
    /// full disk gets its room back as soon as the collector has the records, without having to
    /// create a file first. The new number keeps positions increasing.
    private func recycleActiveSegment() throws {
        condition.lock()
        let old = state.active.number
        let descriptor = activeDescriptor
        condition.unlock()
        // The checkpoints in the segment about to be emptied must be durable elsewhere first.
        try persistState()
        let next = old + 1
        do {
            try SystemCall.check("ftruncate") { ftruncate(descriptor, off_t(SpoolFrame.headerSize)) }
            try SystemCall.check("fsync") { fsync(descriptor) }
            let header = SpoolFrame.header(segment: next, createdMicroseconds: UInt64(Date().timeIntervalSince1970 * 1_000_000))
            try header.withUnsafeBytes { raw in
                _ = try SystemCall.check("pwrite") { pwrite(descriptor, raw.baseAddress!, raw.count, 0) }
            }
            try SystemCall.check("fsync") { fsync(descriptor) }
            try SystemCall.check("rename") {
                rename(segmentsDirectory + "/" + Self.segmentName(old), segmentsDirectory + "/" + Self.segmentName(next))
            }
            try SystemCall.syncDirectory(segmentsDirectory)
        } catch {
            throw AgentError(.spoolIO, "cannot recycle the active spool segment", path: segmentsDirectory, underlyingError: error)
        }
        preparedEnd = SpoolFrame.headerSize
        condition.lock()
        _ = state.recycledActive()
        condition.unlock()
    }

    private func rotateSegment() throws {
        condition.lock()
        let number = state.nextSegmentNumber
        condition.unlock()
        let descriptor = try Self.createSegment(path: segmentsDirectory + "/" + Self.segmentName(number), number: number)
        try SystemCall.syncDirectory(segmentsDirectory)
        condition.lock()
        // A closed segment keeps no prepared space (if this cut is lost, the scan skips the zeros).
        if preparedEnd > state.active.size { _ = ftruncate(activeDescriptor, off_t(state.active.size)) }
        Glibc.close(activeDescriptor)
        activeDescriptor = descriptor
        preparedEnd = SpoolFrame.headerSize
        state.rotated(to: number)
        condition.unlock()
    }

    /// Drops whole oldest segments until `incoming` bytes fit (committer thread, `condition` not
    /// held: the segment is read outside it, and the drop applied under it only if the segment is
    /// still the oldest). Returns what was dropped.
    private func makeRoom(for incoming: Int) -> DropSummary? {
        var summary: DropSummary?
        while true {
            condition.lock()
            let chosen = state.segmentToDrop(incoming: incoming)
            condition.unlock()
            guard let oldest = chosen else { return summary }
            let path = segmentsDirectory + "/" + Self.segmentName(oldest.number)
            let records = SpoolFrame.scan((try? Self.readAll(path)) ?? []).entries.filter { $0.kind == .record }.map { entry in
                (offset: entry.offset, eventTime: (try? JSONDecoder().decode(EventTimeOnly.self, from: Data(entry.payload)))?.eventTime)
            }
            let dropped = stateWrites.withLock { _ -> SpoolState.Drop? in
                condition.lock()
                let drop = state.drop(oldest, records: records)
                condition.unlock()
                guard let drop else { return nil }  // acknowledged and deleted by the shipper meanwhile
                try? write(drop.state)
                unlink(path)
                return drop
            }
            if let dropped, !dropped.records.isEmpty {
                let times = dropped.records.compactMap(\.eventTime)
                summary = DropSummary(
                    count: (summary?.count ?? 0) + dropped.records.count, firstEventTime: summary?.firstEventTime ?? times.first,
                    lastEventTime: times.last ?? summary?.lastEventTime, reason: "spool-full")
            }
        }
    }

    struct EventTimeOnly: Decodable { var eventTime: String }

    // MARK: - Reading and acknowledging

    /// The oldest unacknowledged records, up to `maxRecords` and about `maxBytes`; `nil` when none wait.
    public func oldest(maxRecords: Int, maxBytes: Int) throws -> Batch? {
        condition.lock()
        let (start, snapshot) = state.readPlan
        condition.unlock()
        var batch = Batch(records: [], positions: [], end: start, bytes: 0)
        for segment in snapshot where segment.number >= start.segment {
            var from = segment.number == start.segment ? max(start.offset, SpoolFrame.headerSize) : SpoolFrame.headerSize
            guard from < segment.size else { continue }
            let path = segmentsDirectory + "/" + Self.segmentName(segment.number)
            // A segment recycled or deleted since the snapshot holds nothing unacknowledged; any
            // other read failure is an error (skipping it would acknowledge records never sent).
            guard FileManager.default.fileExists(atPath: path) else { continue }
            // Read a window at a time, not all that could fill a batch (4 MiB plus a largest
            // frame): a batch of 500 typical records is half a MiB, and a backlog was read, zeroed
            // and copied at 8 MiB a batch.
            var window = Self.batchReadWindow
            while from < segment.size {
                let length = min(segment.size - from, window)
                let bytes = try Self.read(path, offset: from, count: length)
                let scan = SpoolFrame.scan(bytes, from: 0)
                var scanned = 0
                for entry in scan.entries {
                    let position = SpoolPosition(segment: segment.number, offset: from + entry.offset)
                    if entry.kind == .record {
                        if !batch.records.isEmpty && (batch.records.count >= maxRecords || batch.bytes + entry.payload.count > maxBytes) {
                            return batch
                        }
                        batch.records.append(Data(entry.payload))
                        batch.positions.append(position)
                        batch.bytes += entry.payload.count
                    }
                    batch.end = SpoolPosition(segment: segment.number, offset: from + entry.end)
                    scanned = entry.end
                }
                if length == segment.size - from { break }  // the rest of the segment was read
                // A frame runs past the window: read on from the last whole one, with a larger
                // window when not one fitted (a frame may be up to 4 MiB).
                if scanned == 0 { window *= 2 }
                from += scanned
            }
            // Past the whole of a closed segment: the next one starts at its header. The active
            // segment is still growing, so the end stays inside it.
            if segment.number != snapshot.last?.number {
                batch.end = SpoolPosition(segment: segment.number + 1, offset: 0)
            }
        }
        return batch.records.isEmpty ? nil : batch
    }

    /// How much of a segment ``oldest(maxRecords:maxBytes:)`` reads at a time.
    static let batchReadWindow = 1024 * 1024

    /// Records that the collector committed `batch`; its segments go once that is durable.
    public func acknowledge(_ batch: Batch, duplicates: Int) throws {
        try advance(past: batch, as: .acknowledged(duplicates: duplicates))
    }

    /// Moves a batch the collector refused for good to `dead-letter/`, with the reason beside it.
    public func deadLetter(_ batch: Batch, reason: String) throws {
        let name = "\(Self.segmentName(batch.positions.first?.segment ?? 0))-\(batch.positions.first?.offset ?? 0)"
        var body = Data()
        for record in batch.records {
            body.append(record)
            body.append(UInt8(ascii: "\n"))
        }
        do {
            // Durable before the acknowledgement below lets the segment go.
            try Self.writeDurably(body, to: deadLetterDirectory + "/" + name + ".ndjson")
            try Self.writeDurably(Data((reason + "\n").utf8), to: deadLetterDirectory + "/" + name + ".reason")
            try SystemCall.syncDirectory(deadLetterDirectory)
        } catch {
            throw AgentError(.spoolIO, "cannot write to the dead-letter directory", path: deadLetterDirectory, underlyingError: error)
        }
        try advance(past: batch, as: .deadLettered)
    }

    /// Marks that `batch` was sent in a request the collector answered.
    public func noteShipped(_ batch: Batch) {
        condition.lock()
        state.shipped(batch.records.count)
        condition.unlock()
    }

    private func advance(past batch: Batch, as outcome: SpoolState.Outcome) throws {
        try stateWrites.withLock { _ in
            condition.lock()
            let advance = state.advance(to: batch.end, positions: batch.positions, as: outcome)
            condition.unlock()
            guard let advance else { return }
            try write(advance.state)
            // Deleted only once the position past them is durable.
            guard !advance.deletable.isEmpty else { return }
            for number in advance.deletable { unlink(segmentsDirectory + "/" + Self.segmentName(number)) }
            try? SystemCall.syncDirectory(segmentsDirectory)
            condition.lock()
            state.deleted(advance.deletable)
            condition.unlock()
        }
    }

    // MARK: - State

    public var currentCounters: SpoolCounters {
        condition.lock()
        defer { condition.unlock() }
        return state.counters
    }

    /// Valid records waiting to ship (including any in flight).
    public var pendingRecords: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.recordsInSpool
    }

    public var bytesOnDisk: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.usedBytes
    }

    /// Writes `state` durably (`stateWrites` held, `condition` not; or during init).
    private func write(_ state: SpoolStateFile.State) throws {
        do {
            try stateFile.write(state)
        } catch {
            throw AgentError(.spoolIO, "cannot write the spool state", path: configuration.directory, underlyingError: error)
        }
    }

    /// Snapshots the state under `condition` and writes it outside it.
    private func persistState() throws {
        try stateWrites.withLock { _ in
            condition.lock()
            let persisted = state.persisted
            condition.unlock()
            try write(persisted)
        }
    }

    // MARK: - Files

    static func lock(_ directory: String) throws -> Int32 {
        let lockPath = directory + "/lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw AgentError(.spoolIO, "cannot open the spool lock", path: lockPath, underlyingError: SystemCall.Failure(call: "open", errno: errno))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingWhitespaceAndNewlines()
            Glibc.close(fd)
            if code == EWOULDBLOCK {
                throw AgentError(
                    .spoolLocked,
                    "the spool is in use by another agent\(holder.map { " (pid \($0))" } ?? ""); two agents cannot share a spool",
                    path: directory)
            }
            throw AgentError(.spoolIO, "cannot lock the spool", path: lockPath, underlyingError: SystemCall.Failure(call: "flock", errno: code))
        }
        _ = ftruncate(fd, 0)
        _ = try? SystemCall.writeAll(fd, Data("\(getpid())\n".utf8))
        return fd
    }

    static func createSegment(path: String, number: UInt64) throws -> Int32 {
        do {
            let fd = try SystemCall.check("open \(path)") { open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640) }
            let header = SpoolFrame.header(segment: number, createdMicroseconds: UInt64(Date().timeIntervalSince1970 * 1_000_000))
            try SystemCall.writeAll(fd, Data(header))
            try SystemCall.check("fsync") { fsync(fd) }
            return fd
        } catch {
            throw AgentError(.spoolIO, "cannot create a spool segment", path: path, underlyingError: error)
        }
    }

    static func readAll(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentError(.spoolIO, "cannot read a spool segment", path: path)
        }
        return [UInt8](data)
    }

    static func read(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        let fd = try SystemCall.check("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        // Read straight into the array's storage: no zeros written first, no copy after.
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            while initialized < count {
                let got = try SystemCall.check("pread") { pread(fd, base + initialized, count - initialized, off_t(offset + initialized)) }
                if got == 0 { break }
                initialized += got
            }
        }
    }

    static func writeDurably(_ data: Data, to path: String) throws {
        let fd = try SystemCall.check("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640) }
        defer { Glibc.close(fd) }
        try SystemCall.writeAll(fd, data)
        try SystemCall.check("fsync") { fsync(fd) }
    }

    static func truncate(_ path: String, to size: Int) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = ftruncate(fd, off_t(size))
        _ = fsync(fd)
        Glibc.close(fd)
    }

    /// Moves (or copies) a damaged segment into `quarantine/`; says so in the log when it cannot.
    static func quarantine(_ path: String, name: String, into directory: String, move: Bool, logger: Logger) {
        let target = directory + "/" + name + ".\(Int(Date().timeIntervalSince1970))"
        do {
            if move {
                try SystemCall.check("rename") { rename(path, target) }
            } else {
                try FileManager.default.copyItem(atPath: path, toPath: target)
            }
            try SystemCall.syncDirectory(directory)
        } catch {
            logger.error(
                "cannot set a damaged spool segment aside; it stays where it is",
                metadata: ["spool.segment": "\(name)", "error": "\(error)"])
        }
    }

    static func segmentName(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    static func segmentNumber(_ name: String) -> UInt64? {
        guard name.hasSuffix(".seg") else { return nil }
        return UInt64(name.dropLast(4))
    }
}
