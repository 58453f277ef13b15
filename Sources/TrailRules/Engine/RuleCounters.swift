// SPDX-License-Identifier: Apache-2.0

/// What a rule did since the collector started with its state.
public struct RuleCounters: Codable, Sendable, Hashable {
    public init() {}

    /// Records the rule matched.
    public var matched = 0
    public var fired = 0
    /// Firings within a suppression.
    public var suppressed = 0
    /// Groups dropped to keep within the limit before their window ended.
    public var evicted = 0
    /// Records dropped from a group holding ``RuleWindow/maxRecordsPerGroup``.
    public var dropped = 0
    /// Records older than their group's window when they came.
    public var late = 0
    /// The event time of the last firing (ms).
    public var lastFired: Int64?
}
