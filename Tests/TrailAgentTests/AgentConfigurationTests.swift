// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

struct AgentConfigurationTests {
    func settings(_ toml: String) throws -> ConfigSettings {
        try ConfigSettings(toml: toml, file: "agent.toml", knownKeys: AgentConfiguration.knownKeys)
    }

    @Test func defaultsApplyWhenOnlyTheCollectorIsGiven() throws {
        let configuration = try AgentConfiguration(settings: try settings(#"collector = "https://c.example:8443/""#))
        #expect(configuration.collectorURL == "https://c.example:8443")
        #expect(configuration.spoolDirectory == "/var/lib/hosttrail/spool")
        #expect(configuration.socketPath == "/run/hosttrail/api.sock")
        #expect(configuration.socketMode == 0o660)
        #expect(configuration.batchMaxAge == .milliseconds(200))
        #expect(configuration.hostname == nil)
    }

    @Test(arguments: [
        ("", "collector"),
        (#"collector = "http://c:80""#, "collector"),
        ("collector = \"https://c\"\nspool-dir = \"relative\"", "spool-dir"),
        ("collector = \"https://c\"\nsocket-mode = \"rw\"", "socket-mode"),
        ("collector = \"https://c\"\nhostname = \"bad host\"", "hostname"),
        ("collector = \"https://c\"\nbatch-max-records = 0", "batch-max-records"),
        ("collector = \"https://c\"\nlog-level = \"loud\"", "log-level"),
        ("collector = \"https://c\"\ntail-file = [\"relative.log\"]", "tail-file"),
        ("collector = \"https://c\"\ntail-file = [\"/a\", \"/a\"]", "tail-file"),
        ("collector = \"https://c\"\ntail-file = [" + (0...8).map { "\"/var/log/f\($0)\"" }.joined(separator: ", ") + "]", "tail-file"),
        ("collector = \"https://c\"\nread-from = \"yesterday\"", "read-from"),
        ("collector = \"https://c\"\njournal = \"yes\"", "journal"),
        ("collector = \"https://c\"\njournal-directory = \"journal\"", "journal-directory"),
        ("collector = \"https://c\"\nevent-selector = [\"keep identifier=nginx\"]", "event-selector"),
    ])
    func badValuesNameTheirKey(toml: String, key: String) throws {
        let parsed = try settings(toml)
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration(settings: parsed) }
        #expect(error?.key == key)
    }

    @Test func shippingAndSpoolSettingsAreRead() throws {
        let configuration = try AgentConfiguration(
            settings: try settings(
                "collector = \"https://c\"\nbatch-max-bytes = 65536\nconnect-timeout-ms = 1500\nrequest-timeout-ms = 30000\n"
                    + "spool-max-bytes = 67108864\nspool-full-policy = \"drop_oldest\"\nspool-commit-interval-ms = 2\n"))
        #expect(configuration.batchMaxBytes == 65536)
        #expect(configuration.connectTimeout == .milliseconds(1500))
        #expect(configuration.requestTimeout == .seconds(30))
        #expect(configuration.spool.maxBytes == 64 << 20)
        #expect(configuration.spool.fullPolicy == .dropOldest)
        #expect(configuration.spool.commitInterval == .milliseconds(2))
        #expect(configuration.spool.segmentBytes == 8 << 20)
        let bad = try settings("collector = \"https://c\"\nspool-full-policy = \"panic\"\n")
        let error = #expect(throws: ConfigurationError.self) { try AgentConfiguration(settings: bad) }
        #expect(error?.key == "spool-full-policy")
    }

    @Test func missingFilesAreReported() throws {
        var parsed = try settings(#"collector = "https://c""#)
        parsed.setFlag("ca", .string("/nonexistent/ca.pem"))
        let problems = try AgentConfiguration(settings: parsed).checkFiles()
        #expect(problems.contains { $0.key == "ca" && $0.reason.contains("/nonexistent/ca.pem") })
    }

    @Test func theAuthLogsAreWatchedOnlyWhileJournaldHoldsTheSameLines() throws {
        var configuration = try AgentConfiguration(settings: try settings(#"collector = "https://c""#))
        #expect(configuration.journal)
        #expect(!configuration.convertsLines(of: "/var/log/auth.log", journaldRunning: true))
        #expect(!configuration.convertsLines(of: "/var/log/secure", journaldRunning: true))
        #expect(configuration.convertsLines(of: "/var/log/dpkg.log", journaldRunning: true))
        // No journald on this host (a container with rsyslog alone): the files are the source.
        #expect(configuration.convertsLines(of: "/var/log/auth.log", journaldRunning: false))
        configuration.journalDirectory = "/var/log/journal/remote"
        #expect(!configuration.convertsLines(of: "/var/log/auth.log", journaldRunning: false))
        configuration = try AgentConfiguration(settings: try settings("collector = \"https://c\"\njournal = false"))
        #expect(configuration.convertsLines(of: "/var/log/auth.log", journaldRunning: true))
    }

    /// The socket's caps stay below the descriptor limit, leaving a quarter (256 at least) for
    /// what the agent opens itself.
    @Test func connectionCapsLeaveDescriptorsForTheAgent() throws {
        let configuration = try AgentConfiguration(settings: try settings(#"collector = "https://c:8443""#))
        #expect(configuration.connectionCaps(descriptorLimit: 65_536) == (1024, 64))
        #expect(configuration.connectionCaps(descriptorLimit: 1024) == (768, 64))
        #expect(configuration.connectionCaps(descriptorLimit: 300) == (44, 44))
        #expect(configuration.connectionCaps(descriptorLimit: 100).total == 1)
    }

    /// Each key's documented default is the default: writing it in the file changes nothing.
    @Test(arguments: AgentConfiguration.keys.filter { $0.defaultValue != nil })
    func theDocumentedDefaultIsTheDefault(key: ConfigurationKey) throws {
        let base = try settings(#"collector = "https://c.example:8443""#)
        var explicit = base
        explicit.setFlag(key.name, key.defaultValue)
        var expected = try AgentConfiguration(settings: base)
        var configured = try AgentConfiguration(settings: explicit)
        (expected.settingsHash, configured.settingsHash) = ("", "")
        #expect(configured == expected, "\(key.name) = \(String(describing: key.defaultValue))")
    }

    /// The README's flag table and the example agent.toml name every key, and no other.
    @Test func theREADMEAndTheExampleFileNameEveryKey() throws {
        let problems = try ConfigurationDocuments.problems(
            keys: AgentConfiguration.keys.names, tableHeader: "| agent flag | default |", exampleFile: "agent.toml")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Each integer key takes its table's bounds and refuses one past each; a value of another
    /// type is refused for every integer and flag key.
    @Test(arguments: AgentConfiguration.keys.filter { if case .text = $0.kind { false } else if case .list = $0.kind { false } else { true } })
    func theTableSaysWhatTheParserTakes(key: ConfigurationKey) throws {
        let base = try settings(#"collector = "https://c.example:8443""#)
        let problems = ConfigurationDocuments.kindProblems(of: key) { value in
            var values = base
            values.setFlag(key.name, value)
            _ = try AgentConfiguration(settings: values)
        }
        #expect(problems.isEmpty, "\(problems)")
    }
}
