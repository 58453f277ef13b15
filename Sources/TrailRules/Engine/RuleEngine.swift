// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// Evaluates records against a set of rules, in the order they were stored, and says which fire.
/// No I/O: the collector feeds it, stores its firings and its ``snapshot()``, and restores that
/// after a restart, so a window neither forgets its count nor fires twice.
public struct RuleEngine: Sendable {
    public private(set) var rules: [Rule]
    var states: [RuleState]
    var index: RuleIndex
    /// Groups per rule; past it the least recently seen are evicted.
    public let maxGroupsPerRule: Int

    public static let defaultMaxGroupsPerRule = 10_000

    public init(rules: [Rule], maxGroupsPerRule: Int = defaultMaxGroupsPerRule) {
        self.rules = rules
        self.maxGroupsPerRule = maxGroupsPerRule
        states = rules.map { RuleState(fingerprint: $0.stateFingerprint) }
        index = RuleIndex(rules)
    }

    /// Takes `event`; the firings it completes, in rule order.
    public mutating func evaluate(_ event: RuleEvent) -> [RuleFiring] {
        var firings: [RuleFiring] = []
        for candidate in index.candidates(for: event.envelope) where rules[candidate].matcher.matches(event) {
            if let firing = states[candidate].take(event, rule: rules[candidate], maxGroups: maxGroupsPerRule) { firings.append(firing) }
        }
        return firings
    }

    /// A new set of rules (a reload): a rule whose name and fingerprint are unchanged keeps its
    /// windows, suppressions and counters; the others start empty.
    public mutating func replaceRules(_ newRules: [Rule]) {
        let old = Dictionary(zip(rules.map(\.name), states), uniquingKeysWith: { first, _ in first })
        states = newRules.map { rule in
            if let state = old[rule.name], state.fingerprint == rule.stateFingerprint { return state }
            return RuleState(fingerprint: rule.stateFingerprint)
        }
        rules = newRules
        index = RuleIndex(newRules)
    }

    /// Each rule's counters, by name.
    public var counters: [String: RuleCounters] {
        Dictionary(zip(rules.map(\.name), states.map(\.counters)), uniquingKeysWith: { first, _ in first })
    }

    /// Groups held by each rule, by name.
    public var groupCounts: [String: Int] {
        Dictionary(zip(rules.map(\.name), states.map(\.groups.count)), uniquingKeysWith: { first, _ in first })
    }

    /// The state to keep: JSON, every rule's by name.
    public func snapshot() throws -> Data {
        let byName = Dictionary(zip(rules.map(\.name), states), uniquingKeysWith: { first, _ in first })
        return try JSONEncoder().encode(byName)
    }

    /// Takes up a ``snapshot()``: the state of each rule it has under the same name and fingerprint.
    public mutating func restore(_ snapshot: Data) throws {
        let byName = try JSONDecoder().decode([String: RuleState].self, from: snapshot)
        for index in rules.indices {
            if let state = byName[rules[index].name], state.fingerprint == rules[index].stateFingerprint { states[index] = state }
        }
    }
}
