// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailTestSupport

/// The unit files, the example configurations and the `validate` subcommands.
@Suite(.serialized, .endToEnd)
struct PackagingTests {
    let root = TestBinaries.packageRoot()

    @Test(arguments: ["hosttrail-agent.service", "hosttrail-collector.service"])
    func unitFilesPassSystemdAnalyzeVerify(unit: String) throws {
        let directory = try TemporaryDirectory(prefix: "unit")
        defer { directory.remove() }
        // systemd-analyze checks that ExecStart exists: point it at the binaries just built.
        let text = try String(contentsOfFile: root + "/packaging/systemd/" + unit, encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/", with: TestBinaries.directory + "/")
        try text.write(toFile: directory.file(unit), atomically: true, encoding: .utf8)
        let result = try Command.run("systemd-analyze", ["verify", directory.file(unit)])
        #expect(result.status == 0, "\(result)")
        // Unknown or malformed keys are only warnings: any output is a failure here.
        let warnings = result.stderr.split(separator: "\n").filter { !$0.contains("Failed to connect to bus") && !$0.contains("systemd/system.conf") }
        #expect(warnings.isEmpty, "\(result.stderr)")
        #expect(text.contains("Type=notify"))
    }

    /// The unit with each responses drop-in (a drop-in's sections are read as the unit's own).
    @Test(arguments: ["responses-block-address.conf", "responses-lock-account.conf"])
    func responsesDropInsPassSystemdAnalyzeVerify(dropIn: String) throws {
        let directory = try TemporaryDirectory(prefix: "unit")
        defer { directory.remove() }
        let unit = try String(contentsOfFile: root + "/packaging/systemd/hosttrail-agent.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/", with: TestBinaries.directory + "/")
        let added = try String(contentsOfFile: root + "/packaging/systemd/" + dropIn, encoding: .utf8)
        #expect(added.contains("[Service]") && !added.contains("ExecStart"))
        try (unit + "\n" + added).write(toFile: directory.file("hosttrail-agent.service"), atomically: true, encoding: .utf8)
        let result = try Command.run("systemd-analyze", ["verify", directory.file("hosttrail-agent.service")])
        let warnings = result.stderr.split(separator: "\n").filter { !$0.contains("Failed to connect to bus") && !$0.contains("systemd/system.conf") }
        #expect(result.status == 0 && warnings.isEmpty, "\(result)")
    }

    /// The example response definitions load; a broken one fails `validate`, naming its file and key.
    @Test func exampleResponsesValidateAndBrokenOnesAreNamed() throws {
        let directory = try TemporaryDirectory(prefix: "resp")
        defer { directory.remove() }
        #expect(try Command.run(TestBinaries.cli, ["dev-certs", "--out", directory.path, "--host", "agent"]).status == 0)
        let arguments = [
            "validate", "--collector", "https://c:8443", "--ca", directory.file("ca.pem"), "--cert", directory.file("agent.pem"), "--key",
            directory.file("agent-key.pem"), "--responses-dir",
        ]
        let examples = try Command.run(TestBinaries.agent, arguments + [root + "/packaging/responses"])
        #expect(examples.status == 0 && examples.stdout.contains("responses: block-ssh-attacker, lock-guessed-account, notify-pager"), "\(examples)")
        let broken = directory.file("responses.d")
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try "kind = \"block-address\"\nallow = [\"not-an-address\"]\n".write(toFile: broken + "/block.toml", atomically: true, encoding: .utf8)
        let refused = try Command.run(TestBinaries.agent, arguments + [broken])
        #expect(refused.status != 0 && refused.stderr.contains(broken + "/block.toml") && refused.stderr.contains("allow"), "\(refused)")
        #expect(try Command.run(TestBinaries.agent, arguments + [broken, "--ignore-responses"]).status == 0)
    }

    @Test func exampleConfigurationsValidate() throws {
        let certificates = try TemporaryDirectory(prefix: "cfg")
        defer { certificates.remove() }
        #expect(try Command.run(TestBinaries.cli, ["dev-certs", "--out", certificates.path, "--host", "agent"]).status == 0)
        let agent = try Command.run(
            TestBinaries.agent,
            [
                "validate", "--config", root + "/packaging/config/agent.toml", "--ca", certificates.file("ca.pem"),
                "--cert", certificates.file("agent.pem"), "--key", certificates.file("agent-key.pem"),
            ])
        #expect(agent.status == 0, "\(agent)")
        let collector = try Command.run(
            TestBinaries.collector,
            [
                "validate", "--config", root + "/packaging/config/collector.toml", "--tls-cert", certificates.file("collector.pem"),
                "--tls-key", certificates.file("collector-key.pem"), "--client-ca", certificates.file("ca.pem"),
            ])
        #expect(collector.status == 0, "\(collector)")
    }

    @Test(arguments: [
        ("agent", "collector = \"https://c:8443\"\nspool_dir = \"/x\"\n", "key \"spool_dir\": unknown key"),
        ("agent", "collector = \"https://c:8443\"\nbatch-max-records = \"many\"\n", "key \"batch-max-records\": must be an integer, got a string"),
        ("agent", "collector = \n", "line 1"),
        (
            "agent", "collector = \"https://c:8443\"\nevent-source-claim = [\"x.example.com=user:no-such-user-here\"]\n",
            "key \"event-source-claim\": event source claim \"x.example.com=user:no-such-user-here\": there is no user no-such-user-here on this host"
        ),
        ("agent", "collector = \"https://c:8443\"\nrate-limit = -1\n", "key \"rate-limit\""),
        ("collector", "revocation-file = \"/dev/null/x\"\n", "key \"revocation-file\": /dev/null/x does not exist or is not readable"),
        ("agent", "spool-dir = \"/x\"\n", "--collector: the collector's URL is required"),
        ("collector", "listen = \"nowhere\"\n", "key \"listen\": \"nowhere\" is not HOST:PORT"),
        ("collector", "account-id = \"12\"\n", "key \"account-id\": \"12\" is not a 12-digit account id"),
    ])
    func validateSaysExactlyWhatIsWrong(component: String, toml: String, expected: String) throws {
        let directory = try TemporaryDirectory(prefix: "cfg")
        defer { directory.remove() }
        let file = directory.file("\(component).toml")
        try toml.write(toFile: file, atomically: true, encoding: .utf8)
        let binary = component == "agent" ? TestBinaries.agent : TestBinaries.collector
        let result = try Command.run(binary, ["validate", "--config", file])
        #expect(result.status != 0)
        #expect(result.stderr.contains(expected), "\(result)")
        if !expected.hasPrefix("--") { #expect(result.stderr.contains(file)) }
    }

    @Test func aMissingExplicitConfigFileIsAnError() throws {
        let result = try Command.run(TestBinaries.agent, ["validate", "--config", "/nonexistent/agent.toml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/agent.toml: no such file"))
    }

    /// The flags `run --help` lists are the keys the README documents (which the libraries' tests
    /// tie to each daemon's table of keys), no more and no fewer.
    @Test(arguments: [(TestBinaries.agent, "| agent flag | default |"), (TestBinaries.collector, "| collector flag | default |")])
    func everyFlagIsADocumentedKey(binary: String, tableHeader: String) throws {
        let help = try Command.run(binary, ["run", "--help"])
        #expect(help.status == 0, "\(help)")
        let documented = try ConfigurationDocuments.readmeFlags(tableHeader: tableHeader)
        let flags = ConfigurationDocuments.folded(ConfigurationDocuments.flags(in: help.stdout), keys: documented)
            .subtracting(["config", "help", "version"])
        #expect(flags == ConfigurationDocuments.folded(documented, keys: documented), "\(flags.symmetricDifference(documented).sorted())")
    }

    @Test func flagsOverrideTheFile() throws {
        let directory = try TemporaryDirectory(prefix: "cfg")
        defer { directory.remove() }
        let file = directory.file("agent.toml")
        try "collector = \"http://not-https\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Command.run(TestBinaries.agent, ["validate", "--config", file, "--collector", "https://c:8443"])
        // The file's bad collector is overridden; what remains are the default certificate paths.
        #expect(!result.stderr.contains("collector"), "\(result)")
    }

    @Test func theAgentLinksNoServerStackOrDatabaseDriver() throws {
        // The agent stays lean: TLS to the collector is libcurl's, and it has no store.
        let symbols = try Command.run("nm", ["--defined-only", TestBinaries.agent], timeout: 120)
        #expect(symbols.status == 0, "\(symbols.stderr)")
        #expect(symbols.stdout.contains("TrailAgent"), "nm read no Swift symbols")
        for module in ["NIOSSL", "Hummingbird", "GRDB", "PostgresNIO"] {
            #expect(!symbols.stdout.contains(module), "hosttrail-agent links \(module)")
        }
    }
}
