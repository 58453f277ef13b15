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
        /// In event-time order (a record arriving late is put in its place).
        var entries: [Entry] = []
        var newest: Int64 = 0

        enum Outcome {
            case late
            case counted(dropped: Int)
            /// The window's records when it fired; it starts again empty.
            case satisfied([Entry], count: Int, dropped: Int)
        }

        mutating func take(_ event: MatchedEvent, steps: [Int], value: JSONValue?, window: RuleWindow) -> Outcome {
            guard event.time >= newest - window.milliseconds else { return .late }
            newest = max(newest, event.time)
            let start = newest - window.milliseconds
            if let first = entries.firstIndex(where: { $0.event.time >= start }) {
                if first > 0 { entries.removeFirst(first) }
            } else {
                entries.removeAll(keepingCapacity: true)
            }
            // Where it belongs in time: at the end unless it came late.
            var position = entries.count
            while position > 0, entries[position - 1].event.time > event.time { position -= 1 }
            let newestRecord = position == entries.count
            switch window.kind {
            case .eventCount:
                entries.insert(Entry(event: event), at: position)
            case .valueCount:
                let value = value ?? .null
                if let index = entries.firstIndex(where: { $0.value == value }) {
                    entries.remove(at: index)
                    if index < position { position -= 1 }
                }
                entries.insert(Entry(event: event, value: value), at: position)
            case .temporal, .temporalOrdered:
                for step in steps.reversed() { entries.insert(Entry(event: event, step: step), at: position) }
            }
            var dropped = 0
            if entries.count > RuleWindow.maxRecordsPerGroup {
                dropped = entries.count - RuleWindow.maxRecordsPerGroup
                entries.removeFirst(dropped)
            }
            // An ordered window can only complete with a record of its last step (or one that
            // came late, and may fill a gap before it).
            if window.kind == .temporalOrdered, newestRecord, !steps.contains(window.steps.count - 1) { return .counted(dropped: dropped) }
            guard let count = RuleState.satisfied(window, entries) else { return .counted(dropped: dropped) }
            // The window starts again after it fires: the next firing needs the count anew.
            defer { entries.removeAll() }
            return .satisfied(entries, count: count, dropped: dropped)
        }
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
        let steps: [Int]
        switch window.kind {
        case .eventCount, .valueCount: steps = []
        case .temporal, .temporalOrdered:
            steps = window.steps.indices.filter { window.steps[$0].matcher.matches(event) }
            guard !steps.isEmpty else { return nil }
        }
        // In place (the dictionary's modify accessor): a copy of the group would copy its records.
        let outcome = groups[key, default: Group()].take(matched, steps: steps, value: window.field?.value(in: event.envelope), window: window)
        switch outcome {
        case .late:
            counters.late += 1
            return nil
        case .counted(let dropped):
            counters.dropped += dropped
            return nil
        case .satisfied(let entries, let count, let dropped):
            counters.dropped += dropped
            let groupKey = Dictionary(zip(window.groupBy.map(\.description), values), uniquingKeysWith: { first, _ in first })
            return fire(rule: rule, event: event, groupKey: groupKey, entries: entries, count: count)
        }
    }

    /// The count to report when `entries` meet the window's condition, else `nil`.
    static func satisfied(_ window: RuleWindow, _ entries: [Entry]) -> Int? {
        switch window.kind {
        case .eventCount, .valueCount:
            return entries.count >= window.threshold ? entries.count : nil
        case .temporal:
            var counts = [Int](repeating: 0, count: window.steps.count)
            for entry in entries { if let step = entry.step { counts[step] += 1 } }
            let seen = window.steps.indices.filter { counts[$0] >= window.steps[$0].minimum }.count
            return seen >= window.threshold ? entries.count : nil
        case .temporalOrdered:
            // The earliest records of each step in turn (entries are in time order), each after
            // the previous step's last.
            let ordered = entries
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
