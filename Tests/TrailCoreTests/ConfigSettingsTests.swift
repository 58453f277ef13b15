// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCore

struct ConfigSettingsTests {
    let keys: Set<String> = ["spool-dir", "collector", "batch-max-records", "journal", "tail-file"]

    @Test func flatKeysAreRead() throws {
        let settings = try ConfigSettings(
            toml: """
                # comment
                spool-dir = "/var/lib/x"
                batch-max-records = 10
                journal = false
                tail-file = ["/var/log/a", "/var/log/b"]
                """,
            file: "agent.toml", knownKeys: keys)
        #expect(try settings.string("spool-dir") == "/var/lib/x")
        #expect(try settings.integer("batch-max-records", in: 1...100) == 10)
        #expect(try settings.bool("journal") == false)
        #expect(try settings.strings("tail-file") == ["/var/log/a", "/var/log/b"])
        #expect(try settings.string("collector") == nil)
    }

    @Test func flagsOverrideTheFile() throws {
        var settings = try ConfigSettings(toml: #"spool-dir = "/from/file""#, file: "agent.toml", knownKeys: keys)
        settings.setFlag("spool-dir", .string("/from/flag"))
        settings.setFlag("collector", nil)
        #expect(try settings.string("spool-dir") == "/from/flag")
        #expect(!settings.contains("collector"))
    }

    @Test func syntaxErrorsNameTheFileAndLine() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigSettings(toml: "spool-dir = \"/x\"\ncollector = \n", file: "/etc/hosttrail/agent.toml", knownKeys: keys)
        }
        #expect(error?.code == .syntax)
        #expect(error?.description.hasPrefix("/etc/hosttrail/agent.toml: line 2") == true)
    }

    @Test func unknownKeysAreNamed() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigSettings(toml: #"spool_dir = "/x""#, file: "agent.toml", knownKeys: keys)
        }
        #expect(error?.code == .unknownKey)
        #expect(error?.key == "spool_dir")
        #expect(error?.description.contains("agent.toml: key \"spool_dir\": unknown key") == true)
    }

    @Test func wrongTypesAndRangesSayWhatWasExpected() throws {
        let settings = try ConfigSettings(toml: "spool-dir = 5\nbatch-max-records = 0", file: "agent.toml", knownKeys: keys)
        let typeError = #expect(throws: ConfigurationError.self) { try settings.string("spool-dir") }
        #expect(typeError?.description == "agent.toml: key \"spool-dir\": must be a string, got an integer")
        let rangeError = #expect(throws: ConfigurationError.self) { try settings.integer("batch-max-records", in: 1...100) }
        #expect(rangeError?.code == .invalidValue)
        #expect(rangeError?.file == "agent.toml")
    }

    @Test func tablesAreRefused() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigSettings(toml: "[journal]\nx = 1", file: "agent.toml", knownKeys: keys)
        }
        #expect(error?.code == .wrongType)
    }

    @Test func hashDependsOnTheEffectiveSettingsOnly() throws {
        let first = try ConfigSettings(toml: "spool-dir = \"/x\"\njournal = true", file: "a.toml", knownKeys: keys)
        let second = try ConfigSettings(toml: "journal = true\n# other comment\nspool-dir = \"/x\"", file: "b.toml", knownKeys: keys)
        var third = second
        third.setFlag("journal", .bool(false))
        #expect(first.hash == second.hash)
        #expect(first.hash != third.hash)
    }

    @Test func anExplicitMissingFileIsAnErrorButAMissingDefaultIsNot() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigFileLoader.load(explicit: "/nope.toml", defaultPath: "/etc/x.toml", knownKeys: keys, readFile: { _ in nil })
        }
        #expect(error?.code == .unreadableFile)
        let settings = try ConfigFileLoader.load(explicit: nil, defaultPath: "/etc/x.toml", knownKeys: keys, readFile: { _ in nil })
        #expect(!settings.contains("spool-dir"))
    }
}

struct RetryBackoffTests {
    @Test func delaysGrowAndAreCapped() {
        var backoff = RetryBackoff(base: .milliseconds(100), cap: .seconds(1))
        let delays = (0..<6).map { _ in backoff.failed(randomFraction: 0.999_999) }
        #expect(delays[0] < .milliseconds(101))
        #expect(delays[1] > .milliseconds(150) && delays[1] <= .milliseconds(200))
        #expect(delays[5] <= .seconds(1))
        backoff.succeeded()
        #expect(backoff.failed(randomFraction: 0.5) == .milliseconds(50))
    }

    @Test func retryAfterWins() {
        var backoff = RetryBackoff()
        #expect(backoff.failed(retryAfter: .seconds(7), randomFraction: 0) == .seconds(7))
        #expect(RetryBackoff.parseRetryAfter(" 3 ") == .seconds(3))
        #expect(RetryBackoff.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
    }

    @Test(arguments: [
        (200, RetryBackoff.Disposition.delivered), (408, .retry), (429, .retry), (503, .retry), (413, .split), (400, .reject), (403, .reject),
    ])
    func statusesMapToDispositions(status: Int, disposition: RetryBackoff.Disposition) {
        #expect(RetryBackoff.disposition(forStatus: status) == disposition)
    }
}
