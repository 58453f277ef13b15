// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCore

/// A reload takes the live keys' new values and keeps the others as they run.
struct RunningSettingsTests {
    static let keys: [ConfigurationKey] = [
        .init("rate-limit", .integer(0...100), "live", reload: .live), .init("spool-dir", .text, "restart"),
        .init("tail-file", .list, "live", reload: .live),
    ]
    static let names = Set(keys.map(\.name))

    func settings(_ toml: String) throws -> ConfigSettings {
        try ConfigSettings(toml: toml, file: "agent.toml", knownKeys: Self.names)
    }

    @Test func liveKeysApplyAndTheOthersWaitForARestartAndAreNamedAgain() throws {
        var running = RunningSettings(try settings("rate-limit = 1\nspool-dir = \"/a\""), keys: Self.keys)
        let first = running.take(try settings("rate-limit = 2\nspool-dir = \"/b\"\ntail-file = [\"/x\"]"))
        #expect(first.live == ["rate-limit", "tail-file"] && first.restartNeeded == ["spool-dir"])
        #expect(try running.settings.integer("rate-limit", in: 0...100) == 2 && running.settings.string("spool-dir") == "/a")
        // The same file again: the waiting key is named again, nothing else changed.
        let second = running.take(try settings("rate-limit = 2\nspool-dir = \"/b\"\ntail-file = [\"/x\"]"))
        #expect(second.live.isEmpty && second.restartNeeded == ["spool-dir"])
        // A live key removed from the file goes back to its default (unset); a restart key put back is no change.
        let third = running.take(try settings("spool-dir = \"/a\""))
        #expect(third.live == ["rate-limit", "tail-file"] && third.restartNeeded.isEmpty)
    }
}
