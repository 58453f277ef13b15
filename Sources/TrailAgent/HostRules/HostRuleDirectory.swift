// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore
import TrailRules

/// The host's own rules: `NAME.json` files in the host rules directory, HostTrail's rule format
/// written as JSON (the agent links no YAML parser; JSON is also YAML, so `hosttrail rules test`
/// reads them too). A host rule acts on this host only: its actions are `respond` to the hosts
/// `matched` (this one). A file that does not load is refused by name; the others stand.
public struct HostRuleDirectory: Sendable {
    public var rules: [Rule] = []
    public var refused: [(file: String, error: RuleFileError)] = []

    public init(path: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var seen: Set<String> = []
        for file in names {
            let full = path + "/" + file
            do throws(RuleFileError) {
                guard let text = try? String(contentsOfFile: full, encoding: .utf8) else { throw RuleFileError(line: nil, "cannot be read") }
                let rule = try RuleFile.load(json: text, defaultName: String(file.dropLast(5)))
                for action in rule.actions {
                    guard case .respond(let respond) = action, respond.hosts == .matched else {
                        throw RuleFileError(
                            line: nil, "a host rule's actions are respond actions for this host (hosts: matched); \(action.kind) is not")
                    }
                }
                guard seen.insert(rule.name).inserted else { throw RuleFileError(line: nil, "another file holds a rule named \(rule.name)") }
                rules.append(rule)
            } catch {
                refused.append((full, error))
            }
        }
    }
}
