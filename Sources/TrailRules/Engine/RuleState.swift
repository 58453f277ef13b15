// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// One rule's counting state, without I/O: its groups' windows, its suppressions, its counters.
/// ``RuleEngine`` owns one per rule and snapshots them (Codable) for the store.
struct RuleState: Codable, Sendable {
    struct Entry: Codable, Sendable, Hashable {
        var event: MatchedEvent
        /// The temporal step it matched; `nil` for counting windows.
        var step: Int?
        /// `value_count`'s value.
        var value: JSONValue?
    }

    struct Group: Codable, Sendable {
        var entries: [Entry] = []
        var newest: Int64 = 0
    }

    var fingerprint: String
    /// The newest event time seen (ms): what groups and suppressions expire against.
    var clock: Int64 = .min
    var groups: [String: Group] = [:]
    /// Group key → the time until which its firings are suppressed.
    var suppressedUntil: [String: Int64] = [:]
    var counters = RuleCounters()
    var sinceSweep = 0

    init(fingerprint: String) {
        self.fingerprint = fingerprint
    }

    /// Takes a record `rule` matched; the firing it completes, if any.
    mutating func take(_ event: RuleEvent, rule: Rule, maxGroups: Int) -> RuleFiring? {
        counters.matched += 1
        clock = max(clock, event.time)
        defer {
            sinceSweep += 1
            if sinceSweep >= 1024 || groups.count > maxGroups { sweep(rule: rule, maxGroups: maxGroups) }
        }
        let matched = MatchedEvent(host: event.host, eventID: event.eventID, time: event.time)
        guard let window = rule.window else {
            return fire(rule: rule, event: event, groupKey: [:], entries: [Entry(event: matched)], count: 1)
        }
        let values = window.groupBy.map { $0.value(in: event.envelope) }
        let key = Self.key(values)
        var group = groups[key] ?? Group()
        guard event.time >= group.newest - window.milliseconds else {
            counters.late += 1
            return nil
        }
        group.newest = max(group.newest, event.time)
        let start = group.newest - window.milliseconds
        group.entries.removeAll { $0.event.time < start }
        switch window.kind {
        case .eventCount:
            group.entries.append(Entry(event: matched))
        case .valueCount:
            let value = window.field?.value(in: event.envelope) ?? .null
            group.entries.removeAll { $0.value == value }
            group.entries.append(Entry(event: matched, value: value))
        case .temporal, .temporalOrdered:
            let steps = window.steps.indices.filter { window.steps[$0].matcher.matches(event) }
            guard !steps.isEmpty else {
                groups[key] = group
                return nil
            }
            for step in steps { group.entries.append(Entry(event: matched, step: step)) }
        }
        if group.entries.count > RuleWindow.maxRecordsPerGroup {
            let excess = group.entries.count - RuleWindow.maxRecordsPerGroup
            group.entries.removeFirst(excess)
            counters.dropped += excess
        }
        guard let count = Self.satisfied(window, group.entries) else {
            groups[key] = group
            return nil
        }
        // The window starts again after it fires: the next firing needs the count anew.
        let entries = group.entries
        group.entries = []
        groups[key] = group
        let groupKey = Dictionary(zip(window.groupBy.map(\.description), values), uniquingKeysWith: { first, _ in first })
        return fire(rule: rule, event: event, groupKey: groupKey, entries: entries, count: count)
    }

    /// The count to report when `entries` meet the window's condition, else `nil`.
    static func satisfied(_ window: RuleWindow, _ entries: [Entry]) -> Int? {
        switch window.kind {
        case .eventCount, .valueCount:
            return entries.count >= window.threshold ? entries.count : nil
        case .temporal:
            let seen = window.steps.indices.filter { step in entries.lazy.filter { $0.step == step }.count >= window.steps[step].minimum }
            return seen.count >= window.threshold ? entries.count : nil
        case .temporalOrdered:
            // The earliest records of each step in turn, each after the previous step's last.
            let ordered = entries.enumerated().sorted { ($0.element.event.time, $0.offset) < ($1.element.event.time, $1.offset) }.map(\.element)
            var position = 0
            for (index, step) in window.steps.enumerated() {
                var needed = step.minimum
                while position < ordered.count, needed > 0 {
                    if ordered[position].step == index { needed -= 1 }
                    position += 1
                }
                if needed > 0 { return nil }
            }
            return entries.count
        }
    }

    mutating func fire(rule: Rule, event: RuleEvent, groupKey: [String: JSONValue], entries: [Entry], count: Int) -> RuleFiring? {
        if let suppression = rule.suppression {
            let key = Self.key(rule.suppressionKey.map { $0.value(in: event.envelope) })
            if let until = suppressedUntil[key], event.time < until {
                counters.suppressed += 1
                return nil
            }
            suppressedUntil[key] = event.time + suppression.milliseconds
        }
        counters.fired += 1
        counters.lastFired = event.time
        var unique: [MatchedEvent] = []
        for entry in entries where unique.last != entry.event { unique.append(entry.event) }
        let listed = Array(unique.sorted { $0.time < $1.time }.suffix(RuleFiring.maxListedEvents))
        let id = EventID.derive(
            machineID: "collector", source: "rule-match",
            position: "\(rule.name);\(Self.key(groupKey.sorted { $0.key < $1.key }.map(\.value)));\(event.host);\(event.eventID)")
        return RuleFiring(
            rule: rule.name, mode: rule.mode, groupKey: groupKey, count: count, windowStart: listed.first?.time ?? event.time,
            windowEnd: event.time, windowMilliseconds: rule.window?.milliseconds, events: listed, id: id)
    }

    /// Drops groups and suppressions the clock has passed; then, past `maxGroups`, the groups
    /// that saw a record longest ago (counted as evictions).
    mutating func sweep(rule: Rule, maxGroups: Int) {
        sinceSweep = 0
        if let window = rule.window {
            let start = clock - window.milliseconds
            groups = groups.filter { $0.value.newest >= start }
        }
        suppressedUntil = suppressedUntil.filter { $0.value > clock }
        if groups.count > maxGroups {
            // A tenth below the limit, so the next sweep is not at the next record.
            let keep = maxGroups - maxGroups / 10
            let oldest = groups.sorted { $0.value.newest < $1.value.newest }.prefix(groups.count - keep)
            for (key, _) in oldest { groups[key] = nil }
            counters.evicted += oldest.count
        }
    }

    static func key(_ values: [JSONValue]) -> String {
        String(decoding: JSONValue.array(values).serialized(), as: UTF8.self)
    }
}

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
