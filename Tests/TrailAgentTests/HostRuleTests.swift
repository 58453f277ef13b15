// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import Testing
import TrailCore
import TrailRules
import TrailTestSupport

@testable import TrailAgent

/// The host's own rules: which files load, and which are refused by name.
struct HostRuleTests {
    static let match = #"{"detail": {"eventSource": ["sshd.linux"]}}"#

    @Test func onlyRulesThatRespondOnThisHostLoad() throws {
        let directory = try TemporaryDirectory(prefix: "host-rules")
        defer { directory.remove() }
        let files = [
            "guessing.json":
                #"{"match": \#(Self.match), "actions": [{"respond": {"response": "block", "arguments": {"address": "detail.sourceIPAddress"}}}]}"#,
            "fleet.json": #"{"match": \#(Self.match), "actions": [{"respond": {"response": "block", "hosts": "all"}}]}"#,
            "hook.json": #"{"match": \#(Self.match), "actions": [{"webhook": {"url": "https://hooks.example/x"}}]}"#,
            "broken.json": #"{"match": [1]}"#,
            "notes.txt": "not a rule",
        ]
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: directory.file(name))) }
        let loaded = HostRuleDirectory(path: directory.path)
        #expect(loaded.rules.map(\.name) == ["guessing"])
        let refused = Dictionary(
            uniqueKeysWithValues: loaded.refused.map { ($0.file.split(separator: "/").last.map(String.init) ?? "", $0.error.reason) })
        #expect(refused.keys.sorted() == ["broken.json", "fleet.json", "hook.json"])
        #expect(refused["fleet.json"]?.contains("hosts: matched") == true && refused["hook.json"]?.contains("webhook is not") == true)
        #expect(HostRuleDirectory(path: directory.file("none")).rules.isEmpty)
    }
}
