// SPDX-License-Identifier: Apache-2.0

/// A Sigma `condition`: selection names, `and`, `or`, `not`, parentheses, `1 of`/`any of`/`all of`
/// a name with wildcards or `them`. `not` binds tightest, then `and`, then `or`.
indirect enum SigmaCondition: Sendable {
    case selection(String)
    case not(SigmaCondition)
    case and([SigmaCondition])
    case or([SigmaCondition])

    func evaluate(_ selection: (String) -> Bool) -> Bool {
        switch self {
        case .selection(let name): selection(name)
        case .not(let inner): !inner.evaluate(selection)
        case .and(let parts): parts.allSatisfy { $0.evaluate(selection) }
        case .or(let parts): parts.contains { $0.evaluate(selection) }
        }
    }

    /// Parses `text` over the selections `names`; a reason when it cannot.
    static func parse(_ text: String, names: [String]) throws(SigmaConditionError) -> SigmaCondition {
        var parser = Parser(tokens: tokenize(text), names: names)
        let condition = try parser.disjunction()
        guard parser.position == parser.tokens.count else {
            throw SigmaConditionError(reason: "unexpected \(parser.tokens[parser.position]) in the condition")
        }
        return condition
    }

    static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" || character.isWhitespace {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                if !character.isWhitespace { tokens.append(String(character)) }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    struct Parser {
        let tokens: [String]
        let names: [String]
        var position = 0
        /// Parentheses and `not`s open: bounded, so a hostile condition cannot exhaust the stack.
        var depth = 0
        static let maxDepth = 64

        init(tokens: [String], names: [String]) {
            self.tokens = tokens
            self.names = names
        }

        var next: String? { position < tokens.count ? tokens[position] : nil }

        mutating func disjunction() throws(SigmaConditionError) -> SigmaCondition {
            var parts = [try conjunction()]
            while next?.lowercased() == "or" {
                position += 1
                parts.append(try conjunction())
            }
            return parts.count == 1 ? parts[0] : .or(parts)
        }

        mutating func conjunction() throws(SigmaConditionError) -> SigmaCondition {
            var parts = [try negation()]
            while next?.lowercased() == "and" {
                position += 1
                parts.append(try negation())
            }
            return parts.count == 1 ? parts[0] : .and(parts)
        }

        mutating func negation() throws(SigmaConditionError) -> SigmaCondition {
            if next?.lowercased() == "not" {
                position += 1
                depth += 1
                defer { depth -= 1 }
                guard depth <= Self.maxDepth else { throw SigmaConditionError(reason: "the condition nests deeper than \(Self.maxDepth)") }
                return .not(try negation())
            }
            return try primary()
        }

        mutating func primary() throws(SigmaConditionError) -> SigmaCondition {
            guard let token = next else { throw SigmaConditionError(reason: "the condition ends too soon") }
            position += 1
            if token == "(" {
                depth += 1
                defer { depth -= 1 }
                guard depth <= Self.maxDepth else { throw SigmaConditionError(reason: "the condition nests deeper than \(Self.maxDepth)") }
                let inner = try disjunction()
                guard next == ")" else { throw SigmaConditionError(reason: "a parenthesis is not closed") }
                position += 1
                return inner
            }
            let quantifier = token.lowercased()
            if ["1", "any", "all"].contains(quantifier), next?.lowercased() == "of" {
                position += 1
                guard let target = next else { throw SigmaConditionError(reason: "\(token) of what?") }
                position += 1
                let selected = target.lowercased() == "them" ? names.filter { !$0.hasPrefix("_") } : names.filter { SigmaGlob(target).matches($0) }
                guard !selected.isEmpty else { throw SigmaConditionError(reason: "no selection matches \(target)") }
                let parts = selected.map(SigmaCondition.selection)
                return quantifier == "all" ? .and(parts) : .or(parts)
            }
            guard ![")", "and", "or", "of"].contains(quantifier) else { throw SigmaConditionError(reason: "unexpected \(token) in the condition") }
            guard names.contains(token) else { throw SigmaConditionError(reason: "the condition names \(token), which is not a selection") }
            return .selection(token)
        }
    }
}

struct SigmaConditionError: Error {
    var reason: String
}
