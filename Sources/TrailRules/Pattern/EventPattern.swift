// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// An EventBridge event pattern (aws/event-ruler's syntax), compiled once and matched against
/// events (JSON objects): a pattern written for EventBridge works unchanged.
///
/// The pattern mirrors the event's nesting; a leaf is a list of matchers, any of which may match
/// (OR); the fields of an object must all match (AND); `"$or": [{…}, {…}]` matches when any of its
/// patterns does. A field the event holds as an array matches when any element does. Matchers:
/// exact values (strings, numbers, `null`), `prefix`, `suffix` (each also with
/// `equals-ignore-case`), `equals-ignore-case`, `wildcard`, `anything-but` (a value, a list, or
/// `prefix`/`suffix`/`equals-ignore-case`/`wildcard`), `numeric`, `exists`, `cidr`.
public struct EventPattern: Sendable {
    /// One object of a pattern: every field must match, and one of each `$or`'s patterns.
    struct Node: Sendable {
        var fields: [(name: String, condition: Condition)]
        var alternatives: [[Node]]
    }

    indirect enum Condition: Sendable {
        case nested(Node)
        /// Any of them.
        case leaf([Matcher])
    }

    enum Matcher: Sendable {
        case string(String)
        case number(Double)
        case null
        case prefix(String, ignoringCase: Bool)
        case suffix(String, ignoringCase: Bool)
        case equalsIgnoringCase(String)
        case wildcard(String)
        /// Matches a present value none of these match.
        case anythingBut([Matcher])
        /// Lower and upper bounds, each inclusive or not.
        case numeric(lower: (value: Double, inclusive: Bool)?, upper: (value: Double, inclusive: Bool)?)
        case exists(Bool)
        case cidr(CIDRBlock)

        var isAbsence: Bool {
            if case .exists(false) = self { return true }
            return false
        }
    }

    let root: Node

    /// Compiles `pattern`, a JSON object.
    ///
    /// - Throws: ``EventPatternError`` naming the path and what is wrong.
    public init(_ pattern: JSONValue) throws {
        root = try Self.node(pattern, path: "")
    }

    /// Whether `event` matches.
    public func matches(_ event: JSONValue) -> Bool {
        Self.matches(root, event)
    }

    // MARK: - Matching

    static func matches(_ node: Node, _ value: JSONValue) -> Bool {
        for (name, condition) in node.fields where !matches(condition, value[name]) { return false }
        for alternatives in node.alternatives where !alternatives.contains(where: { matches($0, value) }) { return false }
        return true
    }

    static func matches(_ condition: Condition, _ value: JSONValue?) -> Bool {
        switch condition {
        case .nested(let node):
            guard let value else { return node.fields.allSatisfy { isAbsenceAllowed($0.condition) } && node.alternatives.isEmpty }
            if case .array(let elements) = value { return elements.contains { matches(node, $0) } }
            return matches(node, value)
        case .leaf(let matchers):
            return matchers.contains { matcher in
                if case .exists(let wanted) = matcher { return (value != nil) == wanted }
                guard let value else { return false }
                if case .array(let elements) = value { return elements.contains { matches(matcher, $0) } }
                return matches(matcher, value)
            }
        }
    }

    /// A nested pattern over an absent object matches only when all it asks is absence.
    static func isAbsenceAllowed(_ condition: Condition) -> Bool {
        switch condition {
        case .leaf(let matchers): matchers.contains(where: \.isAbsence)
        case .nested(let node): node.fields.allSatisfy { isAbsenceAllowed($0.condition) } && node.alternatives.isEmpty
        }
    }

    static func matches(_ matcher: Matcher, _ value: JSONValue) -> Bool {
        switch matcher {
        case .string(let text): return value.stringValue == text
        case .number(let number): return numberValue(value) == number
        case .null: return value == .null
        case .prefix(let text, let ignoringCase):
            guard let string = value.stringValue else { return false }
            return ignoringCase ? string.lowercased().hasPrefix(text.lowercased()) : string.hasPrefix(text)
        case .suffix(let text, let ignoringCase):
            guard let string = value.stringValue else { return false }
            return ignoringCase ? string.lowercased().hasSuffix(text.lowercased()) : string.hasSuffix(text)
        case .equalsIgnoringCase(let text): return value.stringValue?.lowercased() == text.lowercased()
        case .wildcard(let pattern): return value.stringValue.map { Wildcard.matches(pattern, $0) } ?? false
        case .anythingBut(let excluded):
            guard value != .null else { return false }
            return !excluded.contains { matches($0, value) }
        case .numeric(let lower, let upper):
            guard let number = numberValue(value) else { return false }
            if let lower, lower.inclusive ? number < lower.value : number <= lower.value { return false }
            if let upper, upper.inclusive ? number > upper.value : number >= upper.value { return false }
            return true
        case .exists: return true
        case .cidr(let block): return value.stringValue.flatMap(IPAddressBytes.parse).map(block.contains) ?? false
        }
    }

    static func numberValue(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let n): Double(n)
        case .number(let n): n
        default: nil
        }
    }

    // MARK: - Compiling

    static func node(_ pattern: JSONValue, path: String) throws -> Node {
        guard let members = pattern.objectValue else { throw EventPatternError(path: path.isEmpty ? "pattern" : path, "must be an object") }
        guard !members.isEmpty || path.isEmpty else { throw EventPatternError(path: path, "must not be empty") }
        var node = Node(fields: [], alternatives: [])
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            let here = path.isEmpty ? name : "\(path).\(name)"
            if name == "$or" {
                guard let list = value.arrayValue, list.count >= 2 else {
                    throw EventPatternError(path: here, "must be a list of at least two patterns")
                }
                node.alternatives.append(try list.enumerated().map { try Self.node($1, path: "\(here)[\($0)]") })
            } else if let list = value.arrayValue {
                guard !list.isEmpty else { throw EventPatternError(path: here, "must list at least one value") }
                node.fields.append((name, .leaf(try list.enumerated().map { try matcher($1, path: "\(here)[\($0)]") })))
            } else if value.objectValue != nil {
                node.fields.append((name, .nested(try Self.node(value, path: here))))
            } else {
                throw EventPatternError(path: here, "must be a list of values or matchers, or a nested pattern")
            }
        }
        return node
    }

    static func matcher(_ value: JSONValue, path: String) throws -> Matcher {
        switch value {
        case .string(let text): return .string(text)
        case .integer, .number: return .number(numberValue(value)!)
        case .null: return .null
        case .bool: throw EventPatternError(path: path, "true and false are not values EventBridge matches; use \"true\" or {\"exists\": …}")
        case .array: throw EventPatternError(path: path, "a list inside a list")
        case .object(let members):
            guard members.count == 1, let (operation, argument) = members.first else {
                throw EventPatternError(path: path, "a matcher has exactly one operator")
            }
            func text() throws -> String {
                guard let text = argument.stringValue else { throw EventPatternError(path: path, "\(operation) takes a string") }
                return text
            }
            switch operation {
            case "prefix", "suffix":
                let (string, ignoringCase): (String, Bool)
                if let nested = argument.objectValue, nested.count == 1, let inner = nested["equals-ignore-case"]?.stringValue {
                    (string, ignoringCase) = (inner, true)
                } else {
                    (string, ignoringCase) = (try text(), false)
                }
                return operation == "prefix" ? .prefix(string, ignoringCase: ignoringCase) : .suffix(string, ignoringCase: ignoringCase)
            case "equals-ignore-case": return .equalsIgnoringCase(try text())
            case "wildcard":
                let pattern = try text()
                guard !pattern.contains("**") else { throw EventPatternError(path: path, "wildcard may not have consecutive *") }
                return .wildcard(pattern)
            case "anything-but":
                switch argument {
                case .string, .integer, .number: return .anythingBut([try matcher(argument, path: path)])
                case .array(let list):
                    guard !list.isEmpty else { throw EventPatternError(path: path, "anything-but needs at least one value") }
                    return .anythingBut(
                        try list.map { item in
                            guard item.stringValue != nil || numberValue(item) != nil else {
                                throw EventPatternError(path: path, "anything-but lists strings or numbers")
                            }
                            return try matcher(item, path: path)
                        })
                case .object(let nested):
                    guard nested.count == 1, let key = nested.keys.first, ["prefix", "suffix", "equals-ignore-case", "wildcard"].contains(key) else {
                        throw EventPatternError(path: path, "anything-but takes a value, a list, or prefix, suffix, equals-ignore-case or wildcard")
                    }
                    if let list = nested[key]?.arrayValue {
                        return .anythingBut(try list.map { try matcher(.object([key: $0]), path: path) })
                    }
                    return .anythingBut([try matcher(argument, path: path)])
                default: throw EventPatternError(path: path, "anything-but takes a value, a list or a matcher")
                }
            case "numeric":
                return try numeric(argument, path: path)
            case "exists":
                guard case .bool(let wanted) = argument else { throw EventPatternError(path: path, "exists takes true or false") }
                return .exists(wanted)
            case "cidr":
                guard let block = CIDRBlock(try text()) else { throw EventPatternError(path: path, "\"\(try text())\" is not a CIDR block") }
                return .cidr(block)
            default:
                throw EventPatternError(path: path, "unknown operator \(operation)")
            }
        }
    }

    /// `[">", 0, "<=", 5]`: one or two comparisons (a lower and an upper bound) or `["=", 5]`.
    static func numeric(_ argument: JSONValue, path: String) throws -> Matcher {
        guard let list = argument.arrayValue, list.count == 2 || list.count == 4 else {
            throw EventPatternError(path: path, "numeric takes [operator, number] or two of them")
        }
        var lower: (value: Double, inclusive: Bool)?
        var upper: (value: Double, inclusive: Bool)?
        for index in stride(from: 0, to: list.count, by: 2) {
            guard let operation = list[index].stringValue, let number = numberValue(list[index + 1]), abs(number) <= 5e9 else {
                throw EventPatternError(path: path, "numeric takes operators (=, <, <=, >, >=) each followed by a number within ±5e9")
            }
            switch operation {
            case "=":
                guard list.count == 2 else { throw EventPatternError(path: path, "numeric = stands alone") }
                return .numeric(lower: (number, true), upper: (number, true))
            case ">", ">=":
                guard lower == nil else { throw EventPatternError(path: path, "numeric has two lower bounds") }
                lower = (number, operation == ">=")
            case "<", "<=":
                guard upper == nil else { throw EventPatternError(path: path, "numeric has two upper bounds") }
                upper = (number, operation == "<=")
            default: throw EventPatternError(path: path, "numeric operator \(operation) is not =, <, <=, > or >=")
            }
        }
        return .numeric(lower: lower, upper: upper)
    }
}

/// A pattern that cannot be compiled: where and why.
public struct EventPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String

    init(path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

extension EventPattern {
    /// A field the pattern requires to hold one of a few exact strings, if it has one outside any
    /// `$or` (its path from the event's top, and the strings): what ``RuleEngine`` indexes rules by,
    /// so a record is matched only against rules that can match it. `detail.eventSource` is
    /// preferred, then the smallest set.
    public var requiredExactStrings: (path: [String], values: Set<String>)? {
        var found: [(path: [String], values: Set<String>)] = []
        func walk(_ node: Node, _ path: [String]) {
            for (name, condition) in node.fields {
                switch condition {
                case .nested(let inner): walk(inner, path + [name])
                case .leaf(let matchers):
                    let values = matchers.compactMap { matcher -> String? in
                        if case .string(let text) = matcher { return text }
                        return nil
                    }
                    if values.count == matchers.count { found.append((path + [name], Set(values))) }
                }
            }
        }
        walk(root, [])
        return found.first { $0.path == ["detail", "eventSource"] } ?? found.min { $0.values.count < $1.values.count }
    }
}
