// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import CurlTransport
import FoundationEssentials
import Glibc
import Logging
import TrailAgent
import TrailCore
import TrailRules
import TrailSystemd

@main
struct HostTrailAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosttrail-agent",
        abstract: "Turns host and application activity into CloudTrail-format records and ships them to a collector.",
        version: HostTrailVersion.current,
        subcommands: [Run.self, Validate.self, SpoolCommand.self, ResponsesCommand.self],
        defaultSubcommand: Run.self
    )
}

/// Flags; each has the same name as its key in agent.toml and overrides it.
struct AgentOptions: ParsableArguments {
    @Option(help: "Configuration file (default \(AgentConfiguration.defaultFile), used when present).") var config: String?
    @Option(help: .init(AgentConfiguration.keys["collector"].help)) var collector: String?
    @Option(name: .customLong("spool-dir"), help: .init(AgentConfiguration.keys["spool-dir"].help)) var spoolDir: String?
    @Option(help: .init(AgentConfiguration.keys["socket"].help)) var socket: String?
    @Option(name: .customLong("socket-mode"), help: .init(AgentConfiguration.keys["socket-mode"].help)) var socketMode: String?
    @Option(name: .customLong("socket-group"), help: .init(AgentConfiguration.keys["socket-group"].help)) var socketGroup: String?
    @Option(name: .customLong("socket-owner"), help: .init(AgentConfiguration.keys["socket-owner"].help)) var socketOwner: String?
    @Option(help: .init(AgentConfiguration.keys["ca"].help)) var ca: String?
    @Option(help: .init(AgentConfiguration.keys["cert"].help)) var cert: String?
    @Option(help: .init(AgentConfiguration.keys["key"].help)) var key: String?
    @Option(help: .init(AgentConfiguration.keys["hostname"].help)) var hostname: String?
    @Option(name: .customLong("batch-max-records"), help: .init(AgentConfiguration.keys["batch-max-records"].help)) var batchMaxRecords: Int?
    @Option(name: .customLong("batch-max-age-ms"), help: .init(AgentConfiguration.keys["batch-max-age-ms"].help)) var batchMaxAgeMs: Int?
    @Option(name: .customLong("batch-max-bytes"), help: .init(AgentConfiguration.keys["batch-max-bytes"].help)) var batchMaxBytes: Int?
    @Option(name: .customLong("connect-timeout-ms"), help: .init(AgentConfiguration.keys["connect-timeout-ms"].help)) var connectTimeoutMs: Int?
    @Option(name: .customLong("request-timeout-ms"), help: .init(AgentConfiguration.keys["request-timeout-ms"].help)) var requestTimeoutMs: Int?
    @Option(help: .init(AgentConfiguration.keys["proxy"].help)) var proxy: String?
    @Option(name: .customLong("spool-max-bytes"), help: .init(AgentConfiguration.keys["spool-max-bytes"].help)) var spoolMaxBytes: Int?
    @Option(name: .customLong("spool-full-policy"), help: .init(AgentConfiguration.keys["spool-full-policy"].help))
    var spoolFullPolicy: String?
    @Option(name: .customLong("spool-commit-interval-ms"), help: .init(AgentConfiguration.keys["spool-commit-interval-ms"].help))
    var spoolCommitIntervalMs: Int?
    @Option(name: .customLong("max-request-bytes"), help: .init(AgentConfiguration.keys["max-request-bytes"].help)) var maxRequestBytes: Int?
    @Option(
        name: .customLong("socket-read-timeout-ms"),
        help: .init(AgentConfiguration.keys["socket-read-timeout-ms"].help)) var socketReadTimeoutMs: Int?
    @Option(name: .customLong("tail-file"), help: .init(AgentConfiguration.keys["tail-file"].help)) var tailFile: [String] = []
    @Flag(name: .customLong("no-tail-files"), help: .init(AgentConfiguration.keys["no-tail-files"].help)) var noTailFiles = false
    @Option(name: .customLong("read-from"), help: .init(AgentConfiguration.keys["read-from"].help)) var readFrom: String?
    @Option(name: .customLong("hide-unknown-user-names"), help: .init(AgentConfiguration.keys["hide-unknown-user-names"].help))
    var hideUnknownUserNames: Bool?
    @Option(name: .customLong("file-poll-interval-ms"), help: .init(AgentConfiguration.keys["file-poll-interval-ms"].help)) var filePollIntervalMs:
        Int?
    @Flag(inversion: .prefixedNo, help: .init(AgentConfiguration.keys["journal"].help)) var journal: Bool?
    @Option(name: .customLong("journal-directory"), help: .init(AgentConfiguration.keys["journal-directory"].help))
    var journalDirectory: String?
    @Option(
        name: .customLong("event-selector"),
        help: .init(AgentConfiguration.keys["event-selector"].help))
    var eventSelector: [String] = []
    @Option(name: .customLong("max-connections"), help: .init(AgentConfiguration.keys["max-connections"].help))
    var maxConnections: Int?
    @Option(name: .customLong("max-connections-per-uid"), help: .init(AgentConfiguration.keys["max-connections-per-uid"].help))
    var maxConnectionsPerUID: Int?
    @Option(name: .customLong("rate-limit"), help: .init(AgentConfiguration.keys["rate-limit"].help))
    var rateLimit: Int?
    @Option(name: .customLong("rate-limit-burst"), help: .init(AgentConfiguration.keys["rate-limit-burst"].help))
    var rateLimitBurst: Int?
    @Option(
        name: .customLong("event-source-claim"),
        help: .init(AgentConfiguration.keys["event-source-claim"].help))
    var eventSourceClaim: [String] = []
    @Option(name: .customLong("responses-dir"), help: .init(AgentConfiguration.keys["responses-dir"].help)) var responsesDir: String?
    @Option(name: .customLong("host-rules-dir"), help: .init(AgentConfiguration.keys["host-rules-dir"].help)) var hostRulesDir: String?
    @Option(name: .customLong("firewall-table"), help: .init(AgentConfiguration.keys["firewall-table"].help)) var firewallTable: String?
    @Option(name: .customLong("heartbeat-interval-ms"), help: .init(AgentConfiguration.keys["heartbeat-interval-ms"].help))
    var heartbeatIntervalMs: Int?
    @Option(name: .customLong("metrics-listen"), help: .init(AgentConfiguration.keys["metrics-listen"].help)) var metricsListen: String?
    @Option(name: .customLong("metrics-textfile"), help: .init(AgentConfiguration.keys["metrics-textfile"].help)) var metricsTextfile: String?
    @Option(name: .customLong("log-level"), help: .init(AgentConfiguration.keys["log-level"].help)) var logLevel: String?
    @Option(name: .customLong("log-format"), help: .init(AgentConfiguration.keys["log-format"].help)) var logFormat: String?

    /// The file's text, or `nil` when there is no such file.
    static func readFile(_ path: String) throws -> String? {
        FileManager.default.fileExists(atPath: path) ? try String(contentsOfFile: path, encoding: .utf8) : nil
    }

    func settings() throws -> ConfigSettings {
        var settings = try ConfigFileLoader.load(
            explicit: config, defaultPath: AgentConfiguration.defaultFile, knownKeys: AgentConfiguration.knownKeys,
            readFile: Self.readFile)
        settings.setFlag("collector", collector.map(ConfigValue.string))
        settings.setFlag("spool-dir", spoolDir.map(ConfigValue.string))
        settings.setFlag("socket", socket.map(ConfigValue.string))
        settings.setFlag("socket-mode", socketMode.map(ConfigValue.string))
        settings.setFlag("socket-group", socketGroup.map(ConfigValue.string))
        settings.setFlag("socket-owner", socketOwner.map(ConfigValue.string))
        settings.setFlag("ca", ca.map(ConfigValue.string))
        settings.setFlag("cert", cert.map(ConfigValue.string))
        settings.setFlag("key", key.map(ConfigValue.string))
        settings.setFlag("hostname", hostname.map(ConfigValue.string))
        settings.setFlag("batch-max-records", batchMaxRecords.map(ConfigValue.integer))
        settings.setFlag("batch-max-age-ms", batchMaxAgeMs.map(ConfigValue.integer))
        settings.setFlag("batch-max-bytes", batchMaxBytes.map(ConfigValue.integer))
        settings.setFlag("connect-timeout-ms", connectTimeoutMs.map(ConfigValue.integer))
        settings.setFlag("request-timeout-ms", requestTimeoutMs.map(ConfigValue.integer))
        settings.setFlag("proxy", proxy.map(ConfigValue.string))
        settings.setFlag("max-request-bytes", maxRequestBytes.map(ConfigValue.integer))
        settings.setFlag("spool-max-bytes", spoolMaxBytes.map(ConfigValue.integer))
        settings.setFlag("spool-full-policy", spoolFullPolicy.map(ConfigValue.string))
        settings.setFlag("spool-commit-interval-ms", spoolCommitIntervalMs.map(ConfigValue.integer))
        settings.setFlag("socket-read-timeout-ms", socketReadTimeoutMs.map(ConfigValue.integer))
        settings.setFlag("log-level", logLevel.map(ConfigValue.string))
        settings.setFlag("log-format", logFormat.map(ConfigValue.string))
        settings.setFlag("metrics-listen", metricsListen.map(ConfigValue.string))
        settings.setFlag("metrics-textfile", metricsTextfile.map(ConfigValue.string))
        settings.setFlag("tail-file", tailFile.isEmpty ? nil : .strings(tailFile))
        settings.setFlag("no-tail-files", noTailFiles ? .bool(true) : nil)
        settings.setFlag("read-from", readFrom.map(ConfigValue.string))
        settings.setFlag("hide-unknown-user-names", hideUnknownUserNames.map(ConfigValue.bool))
        settings.setFlag("file-poll-interval-ms", filePollIntervalMs.map(ConfigValue.integer))
        settings.setFlag("journal", journal.map(ConfigValue.bool))
        settings.setFlag("journal-directory", journalDirectory.map(ConfigValue.string))
        settings.setFlag("event-selector", eventSelector.isEmpty ? nil : .strings(eventSelector))
        settings.setFlag("max-connections", maxConnections.map(ConfigValue.integer))
        settings.setFlag("max-connections-per-uid", maxConnectionsPerUID.map(ConfigValue.integer))
        settings.setFlag("rate-limit", rateLimit.map(ConfigValue.integer))
        settings.setFlag("rate-limit-burst", rateLimitBurst.map(ConfigValue.integer))
        settings.setFlag("event-source-claim", eventSourceClaim.isEmpty ? nil : .strings(eventSourceClaim))
        settings.setFlag("responses-dir", responsesDir.map(ConfigValue.string))
        settings.setFlag("host-rules-dir", hostRulesDir.map(ConfigValue.string))
        settings.setFlag("heartbeat-interval-ms", heartbeatIntervalMs.map(ConfigValue.integer))
        settings.setFlag("firewall-table", firewallTable.map(ConfigValue.string))
        return settings
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the agent (the default).")
    @OptionGroup var options: AgentOptions

    func run() async throws {
        SystemdReloadService.recordHangupsUntilRunning()
        CurlGlobal.initialize()
        let settings: ConfigSettings
        let configuration: AgentConfiguration
        do {
            settings = try options.settings()
            configuration = try AgentConfiguration(settings: settings)
        } catch let error as ConfigurationError {
            throw ValidationError("invalid configuration: \(error)")
        }
        let logger = DaemonLogging.bootstrap(
            label: "hosttrail-agent", level: try settings.string("log-level"), format: try settings.string("log-format"))
        for problem in configuration.checkFiles() {
            logger.warning("configuration problem: \(problem)")
        }
        do {
            let options = self.options
            let agent = try Agent.start(
                configuration: configuration, reload: .init(settings: settings, load: { try options.settings() }), logger: logger)
            try await agent.run()
        } catch let error as AgentError {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a configuration and say exactly what is wrong.")
    @OptionGroup var options: AgentOptions
    @Flag(
        name: .customLong("ignore-responses"),
        help: "Leave the response definitions out (the agent starts without the broken ones and logs them).")
    var ignoreResponses = false

    func run() throws {
        do {
            let configuration = try AgentConfiguration(settings: try options.settings())
            let problems = configuration.problems(ignoringResponses: ignoreResponses)
            for problem in problems { writeToStandardError("error: \(problem)\n") }
            if !problems.isEmpty { throw ExitCode(1) }
            print(
                "configuration OK (collector \(configuration.collectorURL), spool \(configuration.spoolDirectory), socket \(configuration.socketPath))"
            )
            if !ignoreResponses {
                let names = ResponseDirectory(path: configuration.responsesDirectory).definitions.map(\.name)
                print(names.isEmpty ? "no responses defined" : "responses: \(names.joined(separator: ", "))")
                let rules = HostRuleDirectory(path: configuration.hostRulesDirectory).rules.map(\.name)
                if !rules.isEmpty { print("host rules: \(rules.joined(separator: ", "))") }
            }
        } catch let error as ConfigurationError {
            writeToStandardError("error: \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// Writes `text` to file descriptor 2 (Foundation's `FileHandle` is not in FoundationEssentials).
func writeToStandardError(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
