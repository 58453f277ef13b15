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
        subcommands: [Run.self, Validate.self, RotateSigningKey.self],
        defaultSubcommand: Run.self
    )
}

/// Flags; each has the same name as its key in collector.toml and overrides it.
struct CollectorOptions: ParsableArguments {
    @Option(help: "Configuration file (default \(CollectorConfiguration.defaultFile), used when present).") var config: String?
    @Option(help: .init(CollectorConfiguration.keys["listen"].help)) var listen: String?
    @Option(name: .customLong("data-dir"), help: .init(CollectorConfiguration.keys["data-dir"].help)) var dataDir: String?
    @Option(name: .customLong("tls-cert"), help: .init(CollectorConfiguration.keys["tls-cert"].help)) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: .init(CollectorConfiguration.keys["tls-key"].help)) var tlsKey: String?
    @Option(name: .customLong("client-ca"), help: .init(CollectorConfiguration.keys["client-ca"].help)) var clientCA: String?
    @Option(name: .customLong("account-id"), help: .init(CollectorConfiguration.keys["account-id"].help)) var accountID: String?
    @Option(help: .init(CollectorConfiguration.keys["region"].help)) var region: String?
    @Option(name: .customLong("trail-name"), help: .init(CollectorConfiguration.keys["trail-name"].help)) var trailName: String?
    @Option(name: .customLong("max-ingest-bytes"), help: .init(CollectorConfiguration.keys["max-ingest-bytes"].help)) var maxIngestBytes: Int?
    @Option(name: .customLong("max-concurrent-ingest"), help: .init(CollectorConfiguration.keys["max-concurrent-ingest"].help))
    var maxConcurrentIngest: Int?
    @Option(name: .customLong("max-record-bytes"), help: .init(CollectorConfiguration.keys["max-record-bytes"].help))
    var maxRecordBytes: Int?
    @Option(name: .customLong("max-connections"), help: .init(CollectorConfiguration.keys["max-connections"].help)) var maxConnections: Int?
    @Option(
        name: .customLong("max-connections-per-address"), help: .init(CollectorConfiguration.keys["max-connections-per-address"].help))
    var maxConnectionsPerAddress: Int?
    @Option(
        name: .customLong("request-timeout-ms"),
        help: .init(CollectorConfiguration.keys["request-timeout-ms"].help))
    var requestTimeoutMs: Int?
    @Option(
        name: .customLong("access-key-file"),
        help: .init(CollectorConfiguration.keys["access-key-file"].help))
    var accessKeyFile: String?
    @Option(name: .customLong("access-key"), help: .init(CollectorConfiguration.keys["access-key"].help)) var accessKey: [String] = []
    @Option(
        name: .customLong("fleet-reader"),
        help: .init(CollectorConfiguration.keys["fleet-reader"].help))
    var fleetReader: [String] = []
    @Option(name: .customLong("revocation-file"), help: .init(CollectorConfiguration.keys["revocation-file"].help))
    var revocationFile: String?
    @Option(name: .customLong("retention-days"), help: .init(CollectorConfiguration.keys["retention-days"].help))
    var retentionDays: Int?
    @Option(name: .customLong("retention-interval-ms"), help: .init(CollectorConfiguration.keys["retention-interval-ms"].help))
    var retentionIntervalMs: Int?
    @Flag(name: .customLong("archive"), inversion: .prefixedNo, help: .init(CollectorConfiguration.keys["archive"].help))
    var archive: Bool?
    @Option(name: .customLong("archive-dir"), help: .init(CollectorConfiguration.keys["archive-dir"].help))
    var archiveDir: String?
    @Option(name: .customLong("log-file-interval"), help: .init(CollectorConfiguration.keys["log-file-interval"].help))
    var logFileInterval: String?
    @Option(name: .customLong("digest-interval"), help: .init(CollectorConfiguration.keys["digest-interval"].help)) var digestInterval: String?
    @Option(name: .customLong("signing-key"), help: .init(CollectorConfiguration.keys["signing-key"].help))
    var signingKey: String?
    @Option(name: .customLong("s3-endpoint"), help: .init(CollectorConfiguration.keys["s3-endpoint"].help))
    var s3Endpoint: String?
    @Option(name: .customLong("s3-bucket"), help: .init(CollectorConfiguration.keys["s3-bucket"].help)) var s3Bucket: String?
    @Option(name: .customLong("s3-prefix"), help: .init(CollectorConfiguration.keys["s3-prefix"].help)) var s3Prefix: String?
    @Option(name: .customLong("s3-region"), help: .init(CollectorConfiguration.keys["s3-region"].help)) var s3Region: String?
    @Option(name: .customLong("s3-credentials-file"), help: .init(CollectorConfiguration.keys["s3-credentials-file"].help)) var s3CredentialsFile:
        String?
    @Option(name: .customLong("s3-ca"), help: .init(CollectorConfiguration.keys["s3-ca"].help)) var s3CA: String?
    @Flag(name: .customLong("insights"), inversion: .prefixedNo, help: .init(CollectorConfiguration.keys["insights"].help))
    var insights: Bool?
    @Option(name: .customLong("insights-window-days"), help: .init(CollectorConfiguration.keys["insights-window-days"].help))
    var insightsWindowDays: Int?
    @Option(name: .customLong("insights-min-history"), help: .init(CollectorConfiguration.keys["insights-min-history"].help))
    var insightsMinHistory: String?
    @Option(name: .customLong("insights-grace"), help: .init(CollectorConfiguration.keys["insights-grace"].help))
    var insightsGrace: String?
    @Option(name: .customLong("insights-probability"), help: .init(CollectorConfiguration.keys["insights-probability"].help))
    var insightsProbability: String?
    @Option(name: .customLong("insights-warm-up-probability"), help: .init(CollectorConfiguration.keys["insights-warm-up-probability"].help))
    var insightsWarmUpProbability: String?
    @Option(name: .customLong("insights-min-count"), help: .init(CollectorConfiguration.keys["insights-min-count"].help))
    var insightsMinCount: Int?
    @Option(name: .customLong("insights-multiplier"), help: .init(CollectorConfiguration.keys["insights-multiplier"].help))
    var insightsMultiplier: String?
    @Option(name: .customLong("insights-drop-min-mean"), help: .init(CollectorConfiguration.keys["insights-drop-min-mean"].help))
    var insightsDropMinMean: String?
    @Option(name: .customLong("insights-start-minutes"), help: .init(CollectorConfiguration.keys["insights-start-minutes"].help))
    var insightsStartMinutes: Int?
    @Option(name: .customLong("insights-end-minutes"), help: .init(CollectorConfiguration.keys["insights-end-minutes"].help))
    var insightsEndMinutes: Int?
    @Option(name: .customLong("insights-max-keys"), help: .init(CollectorConfiguration.keys["insights-max-keys"].help))
    var insightsMaxKeys: Int?
    @Option(name: .customLong("rules-dir"), help: .init(CollectorConfiguration.keys["rules-dir"].help)) var rulesDir: String?
    @Option(name: .customLong("rules-max-groups"), help: .init(CollectorConfiguration.keys["rules-max-groups"].help))
    var rulesMaxGroups: Int?
    @Option(name: .customLong("actions-max-concurrent"), help: .init(CollectorConfiguration.keys["actions-max-concurrent"].help))
    var actionsMaxConcurrent: Int?
    @Option(name: .customLong("metrics-listen"), help: .init(CollectorConfiguration.keys["metrics-listen"].help)) var metricsListen: String?
    @Option(name: .customLong("min-free-disk-mb"), help: .init(CollectorConfiguration.keys["min-free-disk-mb"].help)) var minFreeDiskMB: Int?
    @Option(name: .customLong("log-level"), help: .init(CollectorConfiguration.keys["log-level"].help)) var logLevel: String?
    @Option(name: .customLong("log-format"), help: .init(CollectorConfiguration.keys["log-format"].help)) var logFormat: String?

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
        settings.setFlag("max-record-bytes", maxRecordBytes.map(ConfigValue.integer))
        settings.setFlag("max-connections", maxConnections.map(ConfigValue.integer))
        settings.setFlag("max-connections-per-address", maxConnectionsPerAddress.map(ConfigValue.integer))
        settings.setFlag("request-timeout-ms", requestTimeoutMs.map(ConfigValue.integer))
        settings.setFlag("log-level", logLevel.map(ConfigValue.string))
        settings.setFlag("log-format", logFormat.map(ConfigValue.string))
        settings.setFlag("metrics-listen", metricsListen.map(ConfigValue.string))
        settings.setFlag("min-free-disk-mb", minFreeDiskMB.map(ConfigValue.integer))
        settings.setFlag("access-key-file", accessKeyFile.map(ConfigValue.string))
        settings.setFlag("access-key", accessKey.isEmpty ? nil : .strings(accessKey))
        settings.setFlag("fleet-reader", fleetReader.isEmpty ? nil : .strings(fleetReader))
        settings.setFlag("revocation-file", revocationFile.map(ConfigValue.string))
        settings.setFlag("retention-days", retentionDays.map(ConfigValue.integer))
        settings.setFlag("retention-interval-ms", retentionIntervalMs.map(ConfigValue.integer))
        settings.setFlag("archive", archive.map(ConfigValue.bool))
        settings.setFlag("archive-dir", archiveDir.map(ConfigValue.string))
        settings.setFlag("log-file-interval", logFileInterval.map(ConfigValue.string))
        settings.setFlag("digest-interval", digestInterval.map(ConfigValue.string))
        settings.setFlag("signing-key", signingKey.map(ConfigValue.string))
        settings.setFlag("s3-endpoint", s3Endpoint.map(ConfigValue.string))
        settings.setFlag("s3-bucket", s3Bucket.map(ConfigValue.string))
        settings.setFlag("s3-prefix", s3Prefix.map(ConfigValue.string))
        settings.setFlag("s3-region", s3Region.map(ConfigValue.string))
        settings.setFlag("s3-credentials-file", s3CredentialsFile.map(ConfigValue.string))
        settings.setFlag("s3-ca", s3CA.map(ConfigValue.string))
        settings.setFlag("insights", insights.map(ConfigValue.bool))
        settings.setFlag("insights-window-days", insightsWindowDays.map(ConfigValue.integer))
        settings.setFlag("insights-min-history", insightsMinHistory.map(ConfigValue.string))
        settings.setFlag("insights-grace", insightsGrace.map(ConfigValue.string))
        settings.setFlag("insights-probability", insightsProbability.map(ConfigValue.string))
        settings.setFlag("insights-warm-up-probability", insightsWarmUpProbability.map(ConfigValue.string))
        settings.setFlag("insights-min-count", insightsMinCount.map(ConfigValue.integer))
        settings.setFlag("insights-multiplier", insightsMultiplier.map(ConfigValue.string))
        settings.setFlag("insights-drop-min-mean", insightsDropMinMean.map(ConfigValue.string))
        settings.setFlag("insights-start-minutes", insightsStartMinutes.map(ConfigValue.integer))
        settings.setFlag("insights-end-minutes", insightsEndMinutes.map(ConfigValue.integer))
        settings.setFlag("insights-max-keys", insightsMaxKeys.map(ConfigValue.integer))
        settings.setFlag("rules-dir", rulesDir.map(ConfigValue.string))
        settings.setFlag("rules-max-groups", rulesMaxGroups.map(ConfigValue.integer))
        settings.setFlag("actions-max-concurrent", actionsMaxConcurrent.map(ConfigValue.integer))
        return settings
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the collector (the default).")
    @OptionGroup var options: CollectorOptions

    func run() async throws {
        SystemdReloadService.recordHangupsUntilRunning()
        let settings: ConfigSettings
        let configuration: CollectorConfiguration
        do {
            settings = try options.settings()
            configuration = try CollectorConfiguration(settings: settings)
        } catch let error as ConfigurationError {
            throw ValidationError("invalid configuration: \(error)")
        }
        let logger = DaemonLogging.bootstrap(
            label: "hosttrail-collector", level: try settings.string("log-level"), format: try settings.string("log-format"))
        do {
            let options = self.options
            try await Collector(configuration: configuration, reload: .init(settings: settings, load: { try options.settings() }), logger: logger)
                .run()
        } catch let error as CollectorError {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration and the rule files, and say exactly what is wrong (each broken rule file with its line).")
    @OptionGroup var options: CollectorOptions
    @Flag(name: .customLong("ignore-rules"), help: "Leave the rule files out (the collector starts without the broken ones and logs them).")
    var ignoreRules = false

    func run() throws {
        do {
            let configuration = try CollectorConfiguration(settings: try options.settings())
            let rules =
                ignoreRules ? RuleDirectory.Contents(entries: [], problems: [], missing: true) : RuleDirectory.load(configuration.rulesDirectory)
            let problems = configuration.checkFiles().map { "\($0)" } + rules.problems.map { "rule file \($0)" }
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            if !problems.isEmpty { throw ExitCode(1) }
            let ruleSummary =
                ignoreRules
                ? "rules not checked"
                : rules.missing
                    ? "no rules directory \(configuration.rulesDirectory)" : "\(rules.entries.count) rules in \(configuration.rulesDirectory)"
            print(
                "configuration OK (listen \(configuration.listenHost):\(configuration.listenPort), data \(configuration.dataDirectory), trail \(configuration.trailARN); \(ruleSummary))"
            )
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RotateSigningKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-signing-key",
        abstract: "Make a new digest signing key in <data-dir>/keys; the collector signs with it from its next start.",
        discussion: "Earlier keys stay listed by ListPublicKeys, so digests they signed still verify.")
    @OptionGroup var options: CollectorOptions

    func run() throws {
        let configuration: CollectorConfiguration
        do {
            configuration = try CollectorConfiguration(settings: try options.settings())
        } catch let error as ConfigurationError {
            throw ValidationError("invalid configuration: \(error)")
        }
        let directory = configuration.dataDirectory + "/keys"
        let key = try SigningKeyFiles.generate(in: directory, now: Date())
        print("new signing key \(key.publicKey.fingerprint) in \(directory); restart the collector to sign with it")
    }
}
