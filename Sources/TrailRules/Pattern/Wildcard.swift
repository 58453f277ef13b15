// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// EventBridge's `wildcard` matching: `*` stands for any run of characters, `\*` for a star and
/// `\\` for a backslash; everything else for itself.
enum Wildcard {
    enum Token: Equatable {
        case literal(Character)
        case any
    }

    static func tokens(_ pattern: String) -> [Token] {
        var tokens: [Token] = []
        var escaped = false
        for character in pattern {
            if escaped {
                tokens.append(.literal(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                tokens.append(character == "*" ? .any : .literal(character))
            }
        }
        if escaped { tokens.append(.literal("\\")) }
        return tokens
    }

    /// Whether `text` matches `pattern`: greedy with backtracking to the last star, linear in practice.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let tokens = tokens(pattern)
        let characters = Array(text)
        var (t, c) = (0, 0)
        var star: (token: Int, character: Int)?
        while c < characters.count {
            if t < tokens.count, case .literal(let literal) = tokens[t], literal == characters[c] {
                t += 1
                c += 1
            } else if t < tokens.count, tokens[t] == .any {
                star = (t, c)
                t += 1
            } else if let last = star {
                t = last.token + 1
                c = last.character + 1
                star = (last.token, last.character + 1)
            } else {
                return false
            }
        }
        while t < tokens.count, tokens[t] == .any { t += 1 }
        return t == tokens.count
    }
}
