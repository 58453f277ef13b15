// SPDX-License-Identifier: Apache-2.0

/// How the spool stores and bounds records.
public struct SpoolConfiguration: Sendable, Hashable {
    /// What happens when the spool is full.
    public struct FullPolicy: Sendable, Hashable, CustomStringConvertible {
        let rawValue: String
        /// Sources wait; the socket answers `503` with `Retry-After`. Nothing is lost: the default for an audit trail.
        public static let block = FullPolicy(rawValue: "block")
        /// The oldest unshipped records make room; an `EventsDropped` record says how many and from when to when.
        public static let dropOldest = FullPolicy(rawValue: "drop_oldest")
        public init?(_ text: String) {
            guard ["block", "drop_oldest"].contains(text) else { return nil }
            rawValue = text
        }
        private init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    /// The spool directory. Default: `/var/lib/hosttrail/spool`.
    public var directory: String
    /// The most bytes the spool's segments may hold. Default: 1 GiB.
    public var maxBytes: Int
    /// Default: ``FullPolicy/block``.
    public var fullPolicy: FullPolicy
    /// A segment is closed and a new one started past this size. Default: 8 MiB (at most a quarter of ``maxBytes``).
    public var segmentBytes: Int
    /// How long the committer waits to gather more writes into one fsync. Default: 0 (fsync as soon
    /// as the previous one ends; concurrent writers share it anyway).
    public var commitInterval: Duration

    public init(
        directory: String = "/var/lib/hosttrail/spool",
        maxBytes: Int = 1 << 30,
        fullPolicy: FullPolicy = .block,
        segmentBytes: Int = 8 << 20,
        commitInterval: Duration = .zero
    ) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.fullPolicy = fullPolicy
        self.segmentBytes = max(64 * 1024, min(segmentBytes, maxBytes / 4))
        self.commitInterval = commitInterval
    }
}
