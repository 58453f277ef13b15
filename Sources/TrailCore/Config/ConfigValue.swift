// SPDX-License-Identifier: Apache-2.0

/// One setting's value, from a TOML file or a command-line flag.
public enum ConfigValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case strings([String])

    var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "a boolean"
        case .strings: "an array of strings"
        }
    }

    /// The value as the TOML file would write it; the input of the configuration hash.
    var canonicalText: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .integer(let number): String(number)
        case .bool(let flag): String(flag)
        case .strings(let list): "[" + list.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        }
    }
}
