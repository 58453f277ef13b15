// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// A Sigma rule's `detection`, compiled: named selections and the condition over them, matched
/// against a record's envelope through ``SigmaFieldMapping``. Strings match without regard to
/// case, as Sigma specifies; `*` and `?` are wildcards unless escaped; `re` is a regular
/// expression, case-sensitive.
public struct SigmaDetection: Sendable {
    /// A selection: any of its maps (a list of maps is OR), each map's fields all (AND).
    struct Selection: Sendable {
        var alternatives: [[FieldTest]]
    }

    struct FieldTest: Sendable {
        var path: FieldPath
        var field: String
        var values: [ValueTest]
        /// `|all`: every value must match, not any.
        var all: Bool
    }

    enum ValueTest: Sendable {
        /// Compiled from a plain value with `contains`/`startswith`/`endswith` and wildcards.
        case glob(SigmaGlob)
        case number(Double)
        case bool(Bool)
        /// `null`: the field is absent or null.
        case null
        case regex(SigmaRegex)
        case cidr(CIDRBlock)
        case exists(Bool)
    }

    let selections: [String: Selection]
    let condition: SigmaCondition
    /// The records the logsource names (an event source prefilter); `nil`: any.
    let eventSources: Set<String>?

    public func matches(_ envelope: JSONValue) -> Bool {
        if let eventSources {
            guard let source = envelope["detail"]?["eventSource"]?.stringValue, eventSources.contains(source) else { return false }
        }
        return condition.evaluate { name in selections[name].map { Self.matches($0, envelope) } ?? false }
    }

    static func matches(_ selection: Selection, _ envelope: JSONValue) -> Bool {
        selection.alternatives.contains { tests in tests.allSatisfy { matches($0, envelope) } }
    }

    static func matches(_ test: FieldTest, _ envelope: JSONValue) -> Bool {
        let value = test.path.value(in: envelope)
        return test.all ? test.values.allSatisfy { matches($0, value) } : test.values.contains { matches($0, value) }
    }

    static func matches(_ test: ValueTest, _ value: JSONValue) -> Bool {
        if case .array(let elements) = value, !elements.isEmpty {
            if case .exists(let wanted) = test { return wanted }
            return elements.contains { matches(test, $0) }
        }
        switch test {
        case .exists(let wanted): return (value != .null) == wanted
        case .null: return value == .null
        case .glob(let glob):
            switch value {
            case .string(let text): return glob.matches(text)
            case .integer(let number): return glob.matches(String(number))
            case .bool(let flag): return glob.matches(flag ? "true" : "false")
            default: return false
            }
        case .number(let number):
            switch value {
            case .integer(let n): return Double(n) == number
            case .number(let n): return n == number
            case .string(let text): return Double(text) == number
            default: return false
            }
        case .bool(let flag): return value == .bool(flag) || value.stringValue?.lowercased() == (flag ? "true" : "false")
        case .regex(let regex): return value.stringValue.map(regex.matches) ?? false
        case .cidr(let block): return value.stringValue.flatMap(IPAddressBytes.parse).map(block.contains) ?? false
        }
    }
}

/// Sigma's string value: `*` any run, `?` one character, `\*`, `\?`, `\\` themselves; compared
/// case-insensitively.
struct SigmaGlob: Sendable {
    enum Token: Equatable {
        case literal(Character)
        case anyRun
        case one
    }
    let tokens: [Token]

    init(_ text: String, prefixAny: Bool = false, suffixAny: Bool = false) {
        var tokens: [Token] = prefixAny ? [.anyRun] : []
        var escaped = false
        for character in text.lowercased() {
            if escaped {
                if character != "*" && character != "?" && character != "\\" { tokens.append(.literal("\\")) }
                tokens.append(.literal(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "*" {
                if tokens.last != .anyRun { tokens.append(.anyRun) }
            } else if character == "?" {
                tokens.append(.one)
            } else {
                tokens.append(.literal(character))
            }
        }
        if escaped { tokens.append(.literal("\\")) }
        if suffixAny, tokens.last != .anyRun { tokens.append(.anyRun) }
        self.tokens = tokens
    }

    /// Greedy with one backtrack point per star: linear in practice, never exponential.
    func matches(_ text: String) -> Bool {
        let characters = Array(text.lowercased())
        var t = 0
        var c = 0
        var star: (token: Int, character: Int)?
        while c < characters.count {
            if t < tokens.count {
                switch tokens[t] {
                case .literal(let expected) where expected == characters[c]:
                    t += 1
                    c += 1
                    continue
                case .one:
                    t += 1
                    c += 1
                    continue
                case .anyRun:
                    star = (t, c)
                    t += 1
                    continue
                default: break
                }
            }
            guard let saved = star else { return false }
            star = (saved.token, saved.character + 1)
            t = saved.token + 1
            c = saved.character + 1
        }
        while t < tokens.count, tokens[t] == .anyRun { t += 1 }
        return t == tokens.count
    }
}
