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
    @Option(help: "Address to listen on, HOST:PORT (default 0.0.0.0:8443; port 0 picks a free one).") var listen: String?
    @Option(name: .customLong("data-dir"), help: "Data directory (default /var/lib/hosttrail/collector).") var dataDir: String?
    @Option(name: .customLong("tls-cert"), help: "Server certificate, PEM (default /etc/hosttrail/collector.pem).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Server key, PEM (default /etc/hosttrail/collector-key.pem).") var tlsKey: String?
    @Option(name: .customLong("client-ca"), help: "CA of agent certificates, PEM (default /etc/hosttrail/ca.pem).") var clientCA: String?
    @Option(name: .customLong("account-id"), help: "12-digit account id stamped into records (default 000000000000).") var accountID: String?
    @Option(help: "Region name stamped into records (default local).") var region: String?
    @Option(name: .customLong("trail-name"), help: "Trail name (default hosttrail).") var trailName: String?
    @Option(name: .customLong("max-ingest-bytes"), help: "Largest compressed batch accepted (default 16 MiB).") var maxIngestBytes: Int?
    @Option(name: .customLong("max-concurrent-ingest"), help: "Ingest requests handled at once; more get 503 (default 32).") var maxConcurrentIngest:
        Int?
    @Option(name: .customLong("max-record-bytes"), help: "Largest record stored; a larger one is refused on its own (default 512 KiB).")
    var maxRecordBytes: Int?
    @Option(name: .customLong("max-connections"), help: "Connections served at once (default 4096, below the descriptor limit).") var maxConnections:
        Int?
    @Option(
        name: .customLong("max-connections-per-address"), help: "Connections one client address may hold (default 512, at most a quarter of all).")
    var maxConnectionsPerAddress: Int?
    @Option(
        name: .customLong("request-timeout-ms"),
        help: "A request must arrive whole this long after the connection opened or the previous response (default 30000).")
    var requestTimeoutMs: Int?
    @Option(
        name: .customLong("access-key-file"),
        help: "SigV4 access keys for the CloudTrail API, one 'ID SECRET [hosts=..] [event-sources=..]' a line (mode 0600).")
    var accessKeyFile: String?
    @Option(name: .customLong("access-key"), help: "A SigV4 access key ID:SECRET (repeatable; for tests).") var accessKey: [String] = []
    @Option(
        name: .customLong("fleet-reader"),
        help: "CN of a client certificate that may read the whole fleet (repeatable); other host certificates read their own host only.")
    var fleetReader: [String] = []
    @Option(name: .customLong("revocation-file"), help: "Revoked host certificates, 'cn:NAME' or 'serial:HEX' a line; reloaded on SIGHUP.")
    var revocationFile: String?
    @Option(name: .customLong("retention-days"), help: "Delete events older than this many days, recording each deletion (default 0: keep all).")
    var retentionDays: Int?
    @Option(name: .customLong("retention-interval-ms"), help: "How often expired events are looked for (default 60000).") var retentionIntervalMs:
        Int?
    @Flag(name: .customLong("archive"), inversion: .prefixedNo, help: "Write CloudTrail log files and signed digests (default on).")
    var archive: Bool?
    @Option(name: .customLong("archive-dir"), help: "Where log files and digests are written (default <data-dir>/archive; it holds AWSLogs/).")
    var archiveDir: String?
    @Option(name: .customLong("log-file-interval"), help: "How often stored records are written to log files, e.g. 10s, 5m (default 5m).")
    var logFileInterval: String?
    @Option(name: .customLong("digest-interval"), help: "How often a signed digest is written, 5s or more (default 1h).") var digestInterval: String?
    @Option(name: .customLong("signing-key"), help: "Digest signing key, RSA PEM (default: the newest in <data-dir>/keys, made at first start).")
    var signingKey: String?
    @Option(name: .customLong("s3-endpoint"), help: "S3-compatible endpoint the archive is also copied to, e.g. https://s3.example.net.")
    var s3Endpoint: String?
    @Option(name: .customLong("s3-bucket"), help: "Bucket named in the digests and uploaded to (default hosttrail).") var s3Bucket: String?
    @Option(name: .customLong("s3-prefix"), help: "Key prefix in the bucket (default none).") var s3Prefix: String?
    @Option(name: .customLong("s3-region"), help: "Region S3 requests are signed for (default us-east-1).") var s3Region: String?
    @Option(name: .customLong("s3-credentials-file"), help: "'ACCESS_KEY_ID SECRET' for the bucket (mode 0600).") var s3CredentialsFile: String?
    @Option(name: .customLong("s3-ca"), help: "CA bundle for an https S3 endpoint (default the system's).") var s3CA: String?
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
        settings.setFlag("max-record-bytes", maxRecordBytes.map(ConfigValue.integer))
        settings.setFlag("max-connections", maxConnections.map(ConfigValue.integer))
        settings.setFlag("max-connections-per-address", maxConnectionsPerAddress.map(ConfigValue.integer))
        settings.setFlag("request-timeout-ms", requestTimeoutMs.map(ConfigValue.integer))
        settings.setFlag("log-level", logLevel.map(ConfigValue.string))
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
            print(
                "configuration OK (listen \(configuration.listenHost):\(configuration.listenPort), data \(configuration.dataDirectory), trail \(configuration.trailARN))"
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
