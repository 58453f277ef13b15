// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// What the README's flag table and the commented example file say about a daemon's keys,
/// checked against its one table of ``ConfigurationKey``s.
public enum ConfigurationDocuments {
    /// What the README's table under `tableHeader` and `packaging/config/<exampleFile>` say
    /// wrongly about `keys`: each key missing or extra, one line each; empty when they agree.
    public static func problems(keys: Set<String>, tableHeader: String, exampleFile: String) throws -> [String] {
        let readme = folded(try readmeFlags(tableHeader: tableHeader), keys: keys)
        let example = try exampleKeys(file: exampleFile)
        return keys.subtracting(readme).sorted().map { "README (\(tableHeader)) lacks --\($0)" }
            + readme.subtracting(keys).sorted().map { "README (\(tableHeader)) names --\($0), which is no key" }
            + keys.subtracting(example).sorted().map { "packaging/config/\(exampleFile) lacks \($0)" }
            + example.subtracting(keys).sorted().map { "packaging/config/\(exampleFile) names \($0), which is no key" }
    }

    /// The flag names (`--name`, `--no-` forms folded) in the README table under `header`.
    public static func readmeFlags(tableHeader header: String) throws -> Set<String> {
        let readme = try String(contentsOfFile: TestBinaries.packageRoot() + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: header) else { return [] }
        // The rest of the header line, the `|---|` line, then the rows up to the first line that is not one.
        let table = readme[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).prefix { $0.hasPrefix("|") }
        return flags(in: table.map { $0.split(separator: "|").first.map(String.init) ?? "" }.joined(separator: " "))
    }

    /// The keys the example file (`packaging/config/NAME`) sets or shows commented out.
    public static func exampleKeys(file name: String) throws -> Set<String> {
        let text = try String(contentsOfFile: TestBinaries.packageRoot() + "/packaging/config/" + name, encoding: .utf8)
        var keys: Set<String> = []
        for line in text.split(separator: "\n") {
            var rest = line.drop { $0 == " " }
            if rest.hasPrefix("#") { rest = rest.dropFirst().drop { $0 == " " } }
            guard let equals = rest.firstIndex(of: "=") else { continue }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces)
            if !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) { keys.insert(key) }
        }
        return keys
    }

    /// The `--flag` names in `text` (without `--`; `--no-x` counts as `x` when `x` is a key).
    public static func flags(in text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = text[...]
        while let dashes = rest.firstRange(of: "--") {
            let name = rest[dashes.upperBound...].prefix { $0.isLowercase || $0.isNumber || $0 == "-" }
            if !name.isEmpty { names.insert(String(name)) }
            rest = rest[dashes.upperBound...]
        }
        return names
    }

    /// `flags` with `no-x` replaced by `x` where `x` is among `keys` (the inverted form of a bool).
    public static func folded(_ flags: Set<String>, keys: Set<String>) -> Set<String> {
        Set(flags.map { $0.hasPrefix("no-") && keys.contains(String($0.dropFirst(3))) ? String($0.dropFirst(3)) : $0 })
    }

    /// What is wrong with how a daemon's parser (`parse`, given the key set to a value) treats
    /// `key` against the key's kind: an integer's bounds must pass, one past each and a string
    /// must not; a flag must refuse a string. Empty when they agree.
    public static func kindProblems(of key: ConfigurationKey, parse: (ConfigValue) throws -> Void) -> [String] {
        func accepts(_ value: ConfigValue) -> Bool { (try? parse(value)) != nil }
        switch key.kind {
        case .integer(let range):
            var problems: [String] = []
            for bound in [range.lowerBound, range.upperBound] where !accepts(.integer(bound)) { problems.append("\(key.name) refuses \(bound)") }
            for outside in [range.lowerBound - 1, range.upperBound + 1] where accepts(.integer(outside)) {
                problems.append("\(key.name) takes \(outside), outside \(range)")
            }
            if accepts(.string("5")) { problems.append("\(key.name) takes a string") }
            return problems
        case .flag:
            return accepts(.string("yes")) ? ["\(key.name) takes a string"] : []
        case .text, .list:
            return []
        }
    }
}
