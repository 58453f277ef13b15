// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Which rules a record can match, by the exact strings rules require of one field each
/// (``EventPattern/requiredExactStrings``, a Sigma rule's logsource): most records are matched
/// against a few rules, not all. Only an optimisation: a rule left out could not have matched.
struct RuleIndex: Sendable {
    /// Rules with no such field: always candidates.
    var unkeyed: [Int] = []
    /// Path → value → rules requiring it.
    var keyed: [[String]: [String: [Int]]] = [:]

    init(_ rules: [Rule]) {
        for (index, rule) in rules.enumerated() {
            guard let (path, values) = Self.key(of: rule.matcher) else {
                unkeyed.append(index)
                continue
            }
            for value in values { keyed[path, default: [:]][value, default: []].append(index) }
        }
    }

    static func key(of matcher: RuleMatcher) -> (path: [String], values: Set<String>)? {
        switch matcher {
        case .pattern(let pattern): pattern.requiredExactStrings
        case .sigma(let detection): detection.eventSources.map { (["detail", "eventSource"], $0) }
        case .any: nil
        }
    }

    /// The rules `envelope` can match, in rule order.
    func candidates(for envelope: JSONValue) -> [Int] {
        guard !keyed.isEmpty else { return unkeyed }
        var result = unkeyed
        for (path, byValue) in keyed {
            guard let values = Self.strings(at: path, in: envelope) else {
                // An array on the way: any of the path's rules may match.
                for rules in byValue.values { result += rules }
                continue
            }
            for value in values { result += byValue[value] ?? [] }
        }
        result.sort()
        // A rule listed under two values the record holds (an array) is evaluated once.
        return result.count < 2 ? result : result.enumerated().filter { $0.offset == 0 || result[$0.offset - 1] != $0.element }.map(\.element)
    }

    /// The strings at `path` (one, or an array's); `nil` when an array lies on the way.
    static func strings(at path: [String], in envelope: JSONValue) -> [String]? {
        var current = envelope
        for key in path {
            switch current {
            case .object(let members):
                guard let next = members[key] else { return [] }
                current = next
            case .array: return nil
            default: return []
            }
        }
        switch current {
        case .string(let text): return [text]
        case .array(let elements): return elements.compactMap(\.stringValue)
        default: return []
        }
    }
}
