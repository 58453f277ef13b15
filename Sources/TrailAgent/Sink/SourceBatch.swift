// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// Records a source commits together, written straight into spool frames (``SpoolFrame``, kind
/// `record`, one canonical record each): a source that writes its records into the batch spares
/// a copy of each, and the sink writes the frames as they are.
public struct SourceBatch: Sendable {
    public private(set) var frames: [UInt8]
    public private(set) var count = 0

    public init() {
        frames = []
    }

    /// A batch of `records`, one canonical record each.
    public init(_ records: [Data]) {
        frames = []
        frames.reserveCapacity(records.reduce(0) { $0 + $1.count + SpoolFrame.frameOverhead })
        for record in records { add(record) }
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func reserveCapacity(_ bytes: Int) {
        frames.reserveCapacity(bytes)
    }

    /// Adds the record `write` writes.
    public mutating func add(_ write: (inout [UInt8]) -> Void) {
        SpoolFrame.append(.record, to: &frames, writePayload: write)
        count += 1
    }

    public mutating func add(_ record: some Collection<UInt8>) {
        SpoolFrame.append(.record, payload: record, to: &frames)
        count += 1
    }

    /// Empties the batch, keeping its storage for the next one only while batches fill a good
    /// part of it: a trickle after a burst holds no MiBs.
    public mutating func recycle() {
        let used = frames.count
        frames.removeAll(keepingCapacity: used >= frames.capacity / 4)
        count = 0
    }
}
