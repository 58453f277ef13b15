// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import CurlTransport
import FoundationEssentials
import Glibc
import Logging
import TrailAgent
import TrailCore
import TrailSystemd

@main
struct HostTrailAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosttrail-agent",
        abstract: "Turns host and application activity into CloudTrail-format records and ships them to a collector.",
        version: HostTrailVersion.current,
        subcommands: [Run.self, Validate.self, SpoolCommand.self],
        defaultSubcommand: Run.self
    )
}

/// Flags; each has the same name as its key in agent.toml and overrides it.
struct AgentOptions: ParsableArguments {
    @Option(help: "Configuration file (default \(AgentConfiguration.defaultFile), used when present).") var config: String?
    @Option(help: "Collector URL, e.g. https://collector.example:8443.") var collector: String?
    @Option(name: .customLong("spool-dir"), help: "Spool directory (default /var/lib/hosttrail/spool).") var spoolDir: String?
    @Option(help: "Application socket (default /run/hosttrail/api.sock).") var socket: String?
    @Option(name: .customLong("socket-mode"), help: "Socket file mode, octal (default 0660).") var socketMode: String?
    @Option(name: .customLong("socket-group"), help: "Socket file group (default hosttrail).") var socketGroup: String?
    @Option(name: .customLong("socket-owner"), help: "Socket file owner, a user name or uid (default root).") var socketOwner: String?
    @Option(help: "CA certificate of the collector (default /etc/hosttrail/ca.pem).") var ca: String?
    @Option(help: "This host's client certificate (default /etc/hosttrail/agent.pem).") var cert: String?
    @Option(help: "Its private key (default /etc/hosttrail/agent-key.pem).") var key: String?
    @Option(help: "Host name in records; must equal the certificate's CN.") var hostname: String?
    @Option(name: .customLong("batch-max-records"), help: "Records per shipped batch (default 500).") var batchMaxRecords: Int?
    @Option(name: .customLong("batch-max-age-ms"), help: "Longest wait for a fuller batch (default 200).") var batchMaxAgeMs: Int?
    @Option(name: .customLong("batch-max-bytes"), help: "Uncompressed bytes per shipped batch (default 4 MiB).") var batchMaxBytes: Int?
    @Option(name: .customLong("connect-timeout-ms"), help: "Connect timeout to the collector (default 10000).") var connectTimeoutMs: Int?
    @Option(name: .customLong("request-timeout-ms"), help: "Whole-request timeout to the collector (default 60000).") var requestTimeoutMs: Int?
    @Option(help: "HTTP(S) proxy for the collector.") var proxy: String?
    @Option(name: .customLong("spool-max-bytes"), help: "Most bytes the spool may hold (default 1 GiB).") var spoolMaxBytes: Int?
    @Option(name: .customLong("spool-full-policy"), help: "block (default: sources wait, the socket answers 503) or drop_oldest.")
    var spoolFullPolicy: String?
    @Option(name: .customLong("spool-commit-interval-ms"), help: "Wait this long to gather writes into one fsync (default 0).")
    var spoolCommitIntervalMs: Int?
    @Option(name: .customLong("max-request-bytes"), help: "Largest request body on the socket (default 5 MiB).") var maxRequestBytes: Int?
    @Option(
        name: .customLong("socket-read-timeout-ms"),
        help: "A request must be complete this long after the connection opened or the previous reply (default 10000).") var socketReadTimeoutMs: Int?
    @Option(name: .customLong("tail-file"), help: "A log file to tail (repeatable; replaces the default auth.log, secure, dpkg.log).") var tailFile:
        [String] = []
    @Flag(name: .customLong("no-tail-files"), help: "Tail no log files.") var noTailFiles = false
    @Option(name: .customLong("read-from"), help: "Where a source without a checkpoint starts: beginning, boot (default) or end.") var readFrom:
        String?
    @Option(name: .customLong("hide-unknown-user-names"), help: "Hide the names in failed logins for accounts that do not exist (default true).")
    var hideUnknownUserNames: Bool?
    @Option(name: .customLong("file-poll-interval-ms"), help: "How often tailed files are checked (default 250).") var filePollIntervalMs: Int?
    @Flag(inversion: .prefixedNo, help: "Read journald (default on; auth.log and secure are then watched for tampering only).") var journal: Bool?
    @Option(name: .customLong("journal-directory"), help: "Read the journal files in this directory instead of the local journal.")
    var journalDirectory: String?
    @Option(
        name: .customLong("event-selector"),
        help: "include|exclude FIELD=VALUE[,VALUE] … with fields eventSource, eventName, readOnly, unit, identifier (repeatable).")
    var eventSelector: [String] = []
    @Option(name: .customLong("max-connections"), help: "Socket connections served at once (default 1024, below the descriptor limit).")
    var maxConnections: Int?
    @Option(name: .customLong("max-connections-per-uid"), help: "Socket connections one account may hold; root is not capped (default 64).")
    var maxConnectionsPerUID: Int?
    @Option(name: .customLong("rate-limit"), help: "Events a second per uid on the socket; 0 for none; root is not limited (default 10000).")
    var rateLimit: Int?
    @Option(name: .customLong("rate-limit-burst"), help: "Events per uid at once before the rate applies (default 2 x --rate-limit).")
    var rateLimitBurst: Int?
    @Option(
        name: .customLong("event-source-claim"),
        help: "EVENT_SOURCE=PRINCIPAL[,...]: only these may write the source; principals uid:N user:NAME gid:N group:NAME unit:NAME (repeatable).")
    var eventSourceClaim: [String] = []
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (default info).") var logLevel: String?

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
        return settings
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the agent (the default).")
    @OptionGroup var options: AgentOptions

    func run() async throws {
        CurlGlobal.initialize()
        let settings: ConfigSettings
        let configuration: AgentConfiguration
        do {
            settings = try options.settings()
            configuration = try AgentConfiguration(settings: settings)
        } catch let error as ConfigurationError {
            throw ValidationError("invalid configuration: \(error)")
        }
        let logger = DaemonLogging.bootstrap(label: "hosttrail-agent", level: try settings.string("log-level"))
        for problem in configuration.checkFiles() {
            logger.warning("configuration problem: \(problem)")
        }
        do {
            let agent = try Agent.start(configuration: configuration, logger: logger)
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

    func run() throws {
        do {
            let configuration = try AgentConfiguration(settings: try options.settings())
            let problems = configuration.checkFiles()
            for problem in problems { writeToStandardError("error: \(problem)\n") }
            if !problems.isEmpty { throw ExitCode(1) }
            print(
                "configuration OK (collector \(configuration.collectorURL), spool \(configuration.spoolDirectory), socket \(configuration.socketPath))"
            )
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
