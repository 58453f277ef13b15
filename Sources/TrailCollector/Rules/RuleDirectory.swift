// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailRules
import TrailRulesYAML

/// The rules directory: one rule a file, `*.yml` or `*.yaml`, read in name order. A file that
/// does not load is named with its line and reason; a second rule under a name already taken is
/// refused.
public enum RuleDirectory {
    /// A rule loaded from `file`.
    public struct Entry: Sendable {
        public var file: String
        public var rule: Rule
    }

    /// A file that did not load.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var error: RuleFileError
        public var description: String { "\(file): \(error)" }
    }

    public struct Contents: Sendable {
        public var entries: [Entry]
        public var problems: [Problem]
        /// The directory does not exist (no rules, and nothing wrong).
        public var missing: Bool

        public init(entries: [Entry], problems: [Problem], missing: Bool) {
            self.entries = entries
            self.problems = problems
            self.missing = missing
        }
    }

    public static func load(_ directory: String) -> Contents {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return Contents(entries: [], problems: [], missing: true)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { ($0.hasSuffix(".yml") || $0.hasSuffix(".yaml")) && !$0.hasPrefix(".") }.sorted()
        } catch {
            return Contents(
                entries: [], problems: [Problem(file: directory, error: RuleFileError(line: nil, "cannot list: \(error)"))], missing: false)
        }
        var contents = Contents(entries: [], problems: [], missing: false)
        var taken: [String: String] = [:]
        for name in names {
            let path = directory + "/" + name
            let stem = String(name.prefix(upTo: name.lastIndex(of: ".")!))
            do {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw RuleFileError(line: nil, "cannot read the file")
                }
                guard let text = String(data: data, encoding: .utf8) else { throw RuleFileError(line: nil, "the file is not UTF-8") }
                let rule = try RuleFile.load(text: text, defaultName: stem)
                if let other = taken[rule.name] {
                    throw RuleFileError(line: nil, "the rule name \(rule.name) is \(other)'s already")
                }
                taken[rule.name] = name
                contents.entries.append(Entry(file: name, rule: rule))
            } catch let error as RuleFileError {
                contents.problems.append(Problem(file: path, error: error))
            } catch {
                contents.problems.append(Problem(file: path, error: RuleFileError(line: nil, "\(error)")))
            }
        }
        return contents
    }
}
