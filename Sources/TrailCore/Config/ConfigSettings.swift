// SPDX-License-Identifier: Apache-2.0

import Crypto
import TOMLKit

/// Settings by key, from a TOML file with flat keys equal to the flag names, overridden by flags.
///
/// ```toml
/// spool-dir = "/var/lib/hosttrail/spool"
/// collector = "https://collector.example:8443"
/// ```
/// Parsing is pure: the executable reads the file and passes its text. Typed accessors say which
/// file and key a bad value came from.
public struct ConfigSettings: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var value: ConfigValue
        /// The file it came from; `nil` for a flag.
        var file: String?
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Parses a configuration file.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - file: Its path, for error messages.
    ///   - knownKeys: Every key the component accepts; any other key is an error.
    /// - Throws: ``ConfigurationError`` with the line and column of a syntax error, or the key at fault.
    public init(toml text: String, file: String, knownKeys: Set<String>) throws {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                .syntax, file: file,
                reason: "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigurationError(.syntax, file: file, reason: "\(error)")
        }
        for key in table.keys.sorted() {
            guard knownKeys.contains(key) else {
                throw ConfigurationError(
                    .unknownKey, file: file, key: key,
                    reason: "unknown key; known keys are \(knownKeys.sorted().joined(separator: ", "))")
            }
            guard let node = table[key] else { continue }
            let value: ConfigValue
            switch node.type {
            case .string: value = .string(node.string ?? "")
            case .int: value = .integer(node.int ?? 0)
            case .bool: value = .bool(node.bool ?? false)
            case .array:
                var list: [String] = []
                for element in node.array ?? TOMLArray() {
                    guard let text = element.string else {
                        throw ConfigurationError(.wrongType, file: file, key: key, reason: "must be an array of strings")
                    }
                    list.append(text)
                }
                value = .strings(list)
            case .table:
                throw ConfigurationError(
                    .wrongType, file: file, key: key,
                    reason: "tables are not used; write flat keys equal to the flag names (key = value)")
            default:
                throw ConfigurationError(
                    .wrongType, file: file, key: key, reason: "must be a string, an integer, a boolean or an array of strings")
            }
            entries[key] = Entry(value: value, file: file)
        }
    }

    /// Sets a value given on the command line; it overrides the file.
    public mutating func setFlag(_ key: String, _ value: ConfigValue?) {
        guard let value else { return }
        entries[key] = Entry(value: value, file: nil)
    }

    /// Whether the key was set in the file or by a flag.
    public func contains(_ key: String) -> Bool {
        entries[key] != nil
    }

    public func string(_ key: String) throws -> String? {
        guard let entry = entries[key] else { return nil }
        guard case .string(let text) = entry.value else { throw wrongType(key, entry, expected: "a string") }
        return text
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let entry = entries[key] else { return nil }
        switch entry.value {
        case .strings(let list): return list
        case .string(let text): return [text]
        default: throw wrongType(key, entry, expected: "an array of strings")
        }
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let entry = entries[key] else { return nil }
        guard case .integer(let number) = entry.value else { throw wrongType(key, entry, expected: "an integer") }
        guard range.contains(number) else {
            throw invalid(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// The integer `key` holds, within the range its table declares.
    public func integer(_ key: ConfigurationKey) throws -> Int? {
        guard case .integer(let range) = key.kind else { preconditionFailure("\(key.name) is not an integer key") }
        return try integer(key.name, in: range)
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let entry = entries[key] else { return nil }
        guard case .bool(let flag) = entry.value else { throw wrongType(key, entry, expected: "a boolean") }
        return flag
    }

    /// An ``ConfigurationError`` about the value of `key`, naming the file it came from.
    public func invalid(_ key: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(.invalidValue, file: entries[key]?.file, key: key, reason: reason)
    }

    /// A key that must be set and is not.
    public func missing(_ key: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(.missingValue, key: key, reason: reason)
    }

    /// Sets `key` as `other` has it (or unsets it when `other` does not set it).
    public mutating func replace(_ key: String, from other: ConfigSettings) {
        entries[key] = other.entries[key]
    }

    /// The keys whose value differs between `self` and `other` (set in one only, or to another
    /// value), sorted.
    public func changedKeys(from other: ConfigSettings) -> [String] {
        Set(entries.keys).union(other.entries.keys).filter { entries[$0]?.value != other.entries[$0]?.value }.sorted()
    }

    /// SHA-256 over the effective settings, sorted by key: equal settings, equal hash.
    public var hash: String {
        var hasher = SHA256()
        for key in entries.keys.sorted() {
            hasher.update(data: Array("\(key)=\(entries[key]!.value.canonicalText)\n".utf8))
        }
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }

    private func wrongType(_ key: String, _ entry: Entry, expected: String) -> ConfigurationError {
        ConfigurationError(
            .wrongType, file: entry.file, key: key, reason: "must be \(expected), got \(entry.value.typeName)")
    }
}
