// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import Logging
import TrailCollector
import TrailCore
import TrailSystemd

@main
struct HostTrailCollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosttrail-collector",
        abstract: "Receives records from HostTrail agents, stores them and answers the CloudTrail API.",
        version: HostTrailVersion.current,
        subcommands: [Run.self, Validate.self],
        defaultSubcommand: Run.self
    )
}

/// Flags; each has the same name as its key in collector.toml and overrides it.
struct CollectorOptions: ParsableArguments {
    @Option(help: "Configuration file (default \(CollectorConfiguration.defaultFile), used when present).") var config: String?
    @Option(help: "Address to listen on, HOST:PORT (default 0.0.0.0:8443; port 0 picks a free one).") var listen: String?
    @Option(name: .customLong("data-dir"), help: "Data directory (default /var/lib/hosttrail/collector).") var dataDir: String?
    @Option(name: .customLong("tls-cert"), help: "Server certificate, PEM (default /etc/hosttrail/collector.pem).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Server key, PEM (default /etc/hosttrail/collector-key.pem).") var tlsKey: String?
    @Option(name: .customLong("client-ca"), help: "CA of agent certificates, PEM (default /etc/hosttrail/ca.pem).") var clientCA: String?
    @Option(name: .customLong("account-id"), help: "12-digit account id stamped into records (default 000000000000).") var accountID: String?
    @Option(help: "Region name stamped into records (default local).") var region: String?
    @Option(name: .customLong("trail-name"), help: "Trail name (default hosttrail).") var trailName: String?
    @Option(name: .customLong("max-ingest-bytes"), help: "Largest compressed batch accepted (default 16 MiB).") var maxIngestBytes: Int?
    @Option(name: .customLong("max-concurrent-ingest"), help: "Ingest requests handled at once; more get 503 (default 32).") var maxConcurrentIngest: Int?
    @Option(name: .customLong("access-key-file"), help: "SigV4 access keys for the CloudTrail API, one 'ID SECRET [hosts=..] [event-sources=..]' a line (mode 0600).")
    var accessKeyFile: String?
    @Option(name: .customLong("access-key"), help: "A SigV4 access key ID:SECRET (repeatable; for tests).") var accessKey: [String] = []
    @Option(name: .customLong("revocation-file"), help: "Revoked host certificates, 'cn:NAME' or 'serial:HEX' a line; reloaded on SIGHUP.")
    var revocationFile: String?
    @Option(name: .customLong("retention-days"), help: "Delete events older than this many days, recording each deletion (default 0: keep all).")
    var retentionDays: Int?
    @Option(name: .customLong("retention-interval-ms"), help: "How often expired events are looked for (default 60000).") var retentionIntervalMs: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (default info).") var logLevel: String?

    /// The file's text, or `nil` when there is no such file.
    static func readFile(_ path: String) throws -> String? {
        FileManager.default.fileExists(atPath: path) ? try String(contentsOfFile: path, encoding: .utf8) : nil
    }

    func settings() throws -> ConfigSettings {
        var settings = try ConfigFileLoader.load(
            explicit: config, defaultPath: CollectorConfiguration.defaultFile, knownKeys: CollectorConfiguration.knownKeys,
            readFile: Self.readFile)
        settings.setFlag("listen", listen.map(ConfigValue.string))
        settings.setFlag("data-dir", dataDir.map(ConfigValue.string))
        settings.setFlag("tls-cert", tlsCert.map(ConfigValue.string))
        settings.setFlag("tls-key", tlsKey.map(ConfigValue.string))
        settings.setFlag("client-ca", clientCA.map(ConfigValue.string))
        settings.setFlag("account-id", accountID.map(ConfigValue.string))
        settings.setFlag("region", region.map(ConfigValue.string))
        settings.setFlag("trail-name", trailName.map(ConfigValue.string))
        settings.setFlag("max-ingest-bytes", maxIngestBytes.map(ConfigValue.integer))
        settings.setFlag("max-concurrent-ingest", maxConcurrentIngest.map(ConfigValue.integer))
        settings.setFlag("log-level", logLevel.map(ConfigValue.string))
        settings.setFlag("access-key-file", accessKeyFile.map(ConfigValue.string))
        settings.setFlag("access-key", accessKey.isEmpty ? nil : .strings(accessKey))
        settings.setFlag("revocation-file", revocationFile.map(ConfigValue.string))
        settings.setFlag("retention-days", retentionDays.map(ConfigValue.integer))
        settings.setFlag("retention-interval-ms", retentionIntervalMs.map(ConfigValue.integer))
        return settings
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the collector (the default).")
    @OptionGroup var options: CollectorOptions

    func run() async throws {
        let settings: ConfigSettings
        let configuration: CollectorConfiguration
        do {
            settings = try options.settings()
            configuration = try CollectorConfiguration(settings: settings)
        } catch let error as ConfigurationError {
            throw ValidationError("invalid configuration: \(error)")
        }
        let logger = DaemonLogging.bootstrap(label: "hosttrail-collector", level: try settings.string("log-level"))
        do {
            try await Collector(configuration: configuration, logger: logger).run()
        } catch let error as CollectorError {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a configuration and say exactly what is wrong.")
    @OptionGroup var options: CollectorOptions

    func run() throws {
        do {
            let configuration = try CollectorConfiguration(settings: try options.settings())
            let problems = configuration.checkFiles()
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            if !problems.isEmpty { throw ExitCode(1) }
            print("configuration OK (listen \(configuration.listenHost):\(configuration.listenPort), data \(configuration.dataDirectory), trail \(configuration.trailARN))")
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
