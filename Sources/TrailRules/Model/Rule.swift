// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// One rule, compiled: what it matches, how it counts, what it does. HostTrail's YAML and Sigma
/// rules both load into this (``RuleFile``), and one engine evaluates it (``RuleEngine``).
public struct Rule: Sendable {
    public enum Mode: String, Sendable, Codable {
        /// Matches are recorded and their actions run.
        case enforce
        /// Matches are recorded; no action runs.
        case dryRun = "dry-run"
    }

    /// Unique in the rules directory; letters, digits, `.`, `-`, `_`, at most 64.
    public var name: String
    public var description: String?
    /// Which records the rule looks at.
    public var matcher: RuleMatcher
    /// Without one, every matching record fires.
    public var window: RuleWindow?
    public var suppression: Suppression?
    public var mode: Mode
    public var actions: [RuleAction]
    /// The rule as far as its counting goes (match and window, canonical JSON): window state is
    /// kept across a reload only for a rule whose fingerprint is unchanged.
    public var stateFingerprint: String

    /// No second firing for the same group key within `milliseconds` of the last one.
    public struct Suppression: Sendable, Hashable {
        public var milliseconds: Int64
        /// The key's fields; `nil`: the window's `group-by` (one key for a rule without a window).
        public var groupBy: [FieldPath]?
    }

    /// What the suppression counts by.
    var suppressionKey: [FieldPath] { suppression?.groupBy ?? window?.groupBy ?? [] }

    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F
            }
    }
}

/// What a rule (or one event of a temporal window) matches: an EventBridge pattern over the
/// record's envelope, or a Sigma detection over the mapped record.
public enum RuleMatcher: Sendable {
    case pattern(EventPattern)
    case sigma(SigmaDetection)
    /// A Sigma correlation's: any of the rules it references.
    indirect case any([RuleMatcher])

    public func matches(_ event: RuleEvent) -> Bool {
        switch self {
        case .pattern(let pattern): pattern.matches(event.envelope)
        case .sigma(let detection): detection.matches(event.envelope)
        case .any(let matchers): matchers.contains { $0.matches(event) }
        }
    }
}
