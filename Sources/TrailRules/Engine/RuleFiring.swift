// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A rule that fired: for which group, on how many records, over which span of time.
public struct RuleFiring: Sendable, Hashable {
    public var rule: String
    public var mode: Rule.Mode
    /// Each `group-by` field and its value in this group.
    public var groupKey: [String: JSONValue]
    /// Records (`value_count`: distinct values) in the window when it fired.
    public var count: Int
    /// The first and last matching records' times (ms since the epoch).
    public var windowStart: Int64
    public var windowEnd: Int64
    /// The window's `timespan` (ms); `nil` for a rule without a window.
    public var windowMilliseconds: Int64?
    /// The matching records, oldest first, at most ``maxListedEvents`` (the newest ones).
    public var events: [MatchedEvent]
    /// Derived from the rule, the group and the record that completed the window: the same
    /// firing evaluated again (after a restart) has the same ID.
    public var id: String

    public static let maxListedEvents = 100

    public init(
        rule: String, mode: Rule.Mode, groupKey: [String: JSONValue], count: Int, windowStart: Int64, windowEnd: Int64, windowMilliseconds: Int64?,
        events: [MatchedEvent], id: String
    ) {
        self.rule = rule
        self.mode = mode
        self.groupKey = groupKey
        self.count = count
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.windowMilliseconds = windowMilliseconds
        self.events = events
        self.id = id
    }
}
