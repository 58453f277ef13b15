// SPDX-License-Identifier: Apache-2.0

/// A place in the spool: a segment and a byte offset in it. Everything before the acknowledgement
/// position has been committed by the collector (or dropped, or dead-lettered, and counted).
public struct SpoolPosition: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: Int

    public init(segment: UInt64, offset: Int) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (lhs: SpoolPosition, rhs: SpoolPosition) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }

    public var description: String { "\(segment):\(offset)" }
}

/// Counters that reconcile: received = acknowledged + in spool + dropped + dead-lettered.
public struct SpoolCounters: Sendable, Hashable, Codable {
    /// Records committed to the spool (a `202` was or will be sent for them).
    public var received = 0
    /// Records shipped in a request the collector answered (acknowledged, dead-lettered or not).
    public var shipped = 0
    /// Records the collector committed.
    public var acknowledged = 0
    /// Of those, records the collector already had.
    public var duplicates = 0
    /// Records dropped by the `drop_oldest` policy.
    public var droppedFull = 0
    /// Records lost to corruption found at start-up (frames that failed their checksum).
    public var droppedCorrupt = 0
    /// Records the collector refused for good, kept under `dead-letter/`.
    public var deadLettered = 0
    /// Requests refused with `503` because the spool was full under the `block` policy.
    public var refusedFull = 0

    public init() {}
}
