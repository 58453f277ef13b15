// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore
import TrailRules

/// What the rules are doing, for `ListRules` (`hosttrail rules list`): the rules in force with
/// their counters, and the files refused at the last load. ``RulesService`` writes it after each
/// batch; the API reads it. It also carries the dispatcher's wake-up for `RetryActionJob`.
public final class RuleStatusBoard: Sendable {
    public struct RuleStatus: Sendable {
        public var name: String
        public var file: String
        public var description: String?
        public var mode: Rule.Mode
        /// `event_count 10m`, or `nil` for a rule without a window.
        public var window: String?
        public var actions: [String]
        public var counters: RuleCounters
        public var groups: Int
    }

    struct State {
        var rules: [RuleStatus] = []
        var refused: [RuleDirectory.Problem] = []
    }

    private let state = Mutex(State())
    let dispatcherWakeup: Wakeup

    init(dispatcherWakeup: Wakeup) {
        self.dispatcherWakeup = dispatcherWakeup
    }

    public var rules: [RuleStatus] { state.withLock { $0.rules } }
    public var refused: [RuleDirectory.Problem] { state.withLock { $0.refused } }

    func loaded(refused: [RuleDirectory.Problem]) {
        state.withLock { $0.refused = refused }
    }

    func update(engine: RuleEngine, files: [String: String]) {
        let counters = engine.counters
        let groups = engine.groupCounts
        let rules = engine.rules.map { rule in
            RuleStatus(
                name: rule.name, file: files[rule.name] ?? "", description: rule.description, mode: rule.mode,
                window: rule.window.map { "\($0.kind.rawValue) \(RuleDuration.format(milliseconds: $0.milliseconds))" },
                actions: rule.actions.map(\.kind), counters: counters[rule.name] ?? RuleCounters(), groups: groups[rule.name] ?? 0)
        }
        state.withLock { $0.rules = rules }
    }
}
