// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailMetrics
import TrailRules
import TrailSystemd

/// Everything the collector is told, with the defaults a packaged install uses.
///
/// Built from ``ConfigSettings``: the TOML file (`/etc/hosttrail/collector.toml` by default) with
/// flat keys equal to the flag names, overridden by flags.
public struct CollectorConfiguration: Sendable, Hashable {
    /// Address to listen on. Default: `0.0.0.0`.
    public var listenHost: String
    /// Port to listen on; 0 picks a free one (logged). Default: 8443.
    public var listenPort: Int
    /// Where the embedded store lives. Default: `/var/lib/hosttrail/collector`.
    public var dataDirectory: String
    /// The server certificate (PEM). Default: `/etc/hosttrail/collector.pem`.
    public var tlsCertificateFile: String
    /// Its private key (PEM). Default: `/etc/hosttrail/collector-key.pem`.
    public var tlsKeyFile: String
    /// CA whose client certificates are accepted (PEM). Default: `/etc/hosttrail/ca.pem`.
    public var clientCAFile: String
    /// The fleet's 12-digit account id, stamped into `recipientAccountId`. Default: `000000000000`.
    public var accountID: String
    /// The fleet's site or region name, stamped into `awsRegion`. Default: `local`.
    public var region: String
    /// The trail's name. Default: `hosttrail`.
    public var trailName: String
    /// Largest accepted ingest body, compressed. Default: 16 MiB.
    public var maxIngestBytes: Int
    /// Largest accepted ingest body after decompression. Default: 64 MiB.
    public var maxDecompressedBytes: Int
    /// Ingest requests handled at once; more get `503` with `Retry-After`. Default: 32.
    public var maxConcurrentIngest: Int
    /// Connections served at once; one more is closed unread. Default: 4096, and never more than
    /// the descriptor limit allows (``connectionCaps(descriptorLimit:)``).
    public var maxConnections: Int
    /// Connections one client address may hold at once (an agent holds one). Default: 512, and at
    /// most a quarter of `maxConnections`, so one flooding address leaves room for the rest.
    public var maxConnectionsPerAddress: Int
    /// From a connection's opening (the TLS handshake included) or the end of the previous
    /// response, the next request must have arrived whole within this; the connection is closed
    /// otherwise, however steadily bytes trickle in. Default: 30 s.
    public var requestTimeout: Duration
    /// The largest record stored, as canonical JSON; a larger one is refused on its own
    /// (`RecordTooLarge` in the batch's `refused` list). Default: 512 KiB, above anything an agent
    /// makes (an application event is at most 256 KB, a host record's text 2 × 32 KiB).
    public var maxRecordBytes: Int
    /// Access keys for SigV4-signed CloudTrail API calls, from `--access-key-file` (mode 0600 or
    /// stricter) and `--access-key ID:SECRET`. Default: none (lookups need a client certificate).
    public var accessKeys: AccessKeys
    /// CNs of client certificates that may read the whole fleet through the CloudTrail API; any
    /// other host certificate reads its own host's records only. Default: none (reading the fleet
    /// takes an access key).
    public var fleetReaders: Set<String>
    /// Host certificates refused at ingest (``RevocationList``), reloaded on SIGHUP. Default: none.
    public var revocationFile: String?
    /// Where `/metrics`, `/healthz` and `/readyz` are served over plain HTTP. Default:
    /// `127.0.0.1:9479`; `nil` (`none`): not served.
    public var metricsListen: ListenAddress?
    /// `/readyz` fails below this much free space for the data directory. Default: 512 MiB.
    public var minFreeDiskBytes: Int
    /// Events older than this many days are deleted (and the deletion recorded). Default: 0, keep
    /// everything: an audit trail deletes nothing unless told to.
    public var retentionDays: Int
    /// How often expired events are looked for. Default: 60 s.
    public var retentionInterval: Duration
    /// Whether every stored record is written to CloudTrail log files with signed digests.
    /// Default: on (`archive = false` or `--no-archive` turns it off; an audit trail wants it).
    public var archive: Bool
    /// Where the archive's copy is written (it holds `AWSLogs/`). Default: `<data-dir>/archive`.
    public var archiveDirectory: String?
    /// How often stored records are written to log files. Default: 5 minutes.
    public var logFileInterval: Duration
    /// How often a digest is signed (at multiples of it since the epoch). Default: 1 hour.
    public var digestInterval: Duration
    /// The digest signing key (PEM RSA private key). Default: one generated at first start in
    /// `<data-dir>/keys/`, the newest there in use.
    public var signingKeyFile: String?
    /// An S3-compatible endpoint the archive is copied to as well, e.g. `https://s3.example.net`.
    /// Default: none.
    public var s3Endpoint: String?
    /// The bucket the digests name (also for the directory copy). Default: `hosttrail`.
    public var s3Bucket: String
    /// Key prefix in the bucket. Default: none.
    public var s3Prefix: String
    /// Region to sign S3 requests for. Default: `us-east-1`.
    public var s3Region: String
    /// `ACCESS_KEY_ID SECRET` for the bucket, one line, mode 0600. Required with `s3-endpoint`.
    public var s3Credentials: S3Credentials?
    /// CA bundle for an `https` S3 endpoint. Default: the system's.
    public var s3CAFile: String?

    /// Whether the collector looks for unusual activity and writes Insight records. Default: on.
    public var insights: Bool
    /// The Insights detector's thresholds (`insights-*`); defaults as ``InsightDetector/Settings``.
    public var insightSettings: InsightDetector<InsightKey>.Settings
    /// How long after a minute ends Insights still count records of it. Default: 60 s.
    public var insightsGrace: Duration

    /// The rule files. Default: `/etc/hosttrail/rules.d`; no directory, no rules.
    public var rulesDirectory: String
    /// Groups a windowed rule holds at most. Default: 10,000.
    public var rulesMaxGroups: Int
    /// Actions run at once. Default: 8.
    public var actionsMaxConcurrent: Int

    /// Every key the file and the flags accept (``keys``).
    public static let knownKeys: Set<String> = keys.names

    public static let defaultFile = "/etc/hosttrail/collector.toml"

    public init(
        listenHost: String = "0.0.0.0",
        listenPort: Int = 8443,
        dataDirectory: String = "/var/lib/hosttrail/collector",
        tlsCertificateFile: String = "/etc/hosttrail/collector.pem",
        tlsKeyFile: String = "/etc/hosttrail/collector-key.pem",
        clientCAFile: String = "/etc/hosttrail/ca.pem",
        accountID: String = "000000000000",
        region: String = "local",
        trailName: String = "hosttrail",
        maxIngestBytes: Int = 16 * 1024 * 1024,
        maxDecompressedBytes: Int = 64 * 1024 * 1024,
        maxConcurrentIngest: Int = 32
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.dataDirectory = dataDirectory
        self.tlsCertificateFile = tlsCertificateFile
        self.tlsKeyFile = tlsKeyFile
        self.clientCAFile = clientCAFile
        self.accountID = accountID
        self.region = region
        self.trailName = trailName
        self.maxIngestBytes = maxIngestBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxConcurrentIngest = maxConcurrentIngest
        maxRecordBytes = 512 * 1024
        maxConnections = 4096
        maxConnectionsPerAddress = 512
        requestTimeout = .seconds(30)
        accessKeys = AccessKeys()
        fleetReaders = []
        retentionDays = 0
        metricsListen = .tcp(host: "127.0.0.1", port: 9479)
        minFreeDiskBytes = 512 << 20
        retentionInterval = .seconds(60)
        archive = true
        logFileInterval = .seconds(300)
        digestInterval = .seconds(3600)
        s3Bucket = "hosttrail"
        s3Prefix = ""
        s3Region = "us-east-1"
        insights = true
        insightSettings = InsightDetector<InsightKey>.Settings()
        insightsGrace = .seconds(60)
        rulesDirectory = "/etc/hosttrail/rules.d"
        rulesMaxGroups = RuleEngine.defaultMaxGroupsPerRule
        actionsMaxConcurrent = 8
    }

    /// The connection caps under a descriptor limit (`RLIMIT_NOFILE`'s soft value): the
    /// configured ones, lowered so that connections leave a quarter of the descriptors (256 at
    /// least) for the store, the archive and its uploads, and one address at most a quarter of
    /// the rest.
    public func connectionCaps(descriptorLimit: Int) -> (total: Int, perAddress: Int) {
        let total = ConnectionTally<String>.cap(configured: maxConnections, descriptorLimit: descriptorLimit)
        return (total, max(1, min(maxConnectionsPerAddress, total / 4)))
    }

    /// An S3 access key.
    public struct S3Credentials: Sendable, Hashable {
        public var id: String
        public var secret: String
    }

    /// The archive's directory.
    public var archivePath: String { archiveDirectory ?? dataDirectory + "/archive" }

    /// Where this trail's files go in the bucket (and in the directory).
    public var archiveLayout: ArchiveLayout {
        ArchiveLayout(accountID: accountID, region: region, trailName: trailName, bucket: s3Bucket, prefix: s3Prefix)
    }

    /// Builds and checks a configuration.
    ///
    /// - Throws: ``ConfigurationError`` naming the file (or flag), the key and the reason.
    public init(settings: ConfigSettings) throws {
        self.init()
        if let listen = try settings.string("listen") {
            guard let (host, port) = Self.parseListen(listen) else {
                throw settings.invalid("listen", "\"\(listen)\" is not HOST:PORT (e.g. 0.0.0.0:8443, 127.0.0.1:0, [::1]:8443)")
            }
            listenHost = host
            listenPort = port
        }
        if let value = try settings.string("data-dir") {
            guard value.hasPrefix("/") || value.hasPrefix(".") else { throw settings.invalid("data-dir", "must be a path") }
            dataDirectory = value
        }
        if let value = try settings.string("tls-cert") { tlsCertificateFile = value }
        if let value = try settings.string("tls-key") { tlsKeyFile = value }
        if let value = try settings.string("client-ca") { clientCAFile = value }
        if let value = try settings.string("account-id") {
            guard value.count == 12, value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber) else {
                throw settings.invalid("account-id", "\"\(value)\" is not a 12-digit account id")
            }
            accountID = value
        }
        if let value = try settings.string("region") {
            guard !value.isEmpty, value.count <= 64, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw settings.invalid("region", "\"\(value)\" is not a region name (letters, digits and '-', like eu-west-1)")
            }
            region = value
        }
        if let value = try settings.string("trail-name") {
            guard (3...128).contains(value.count),
                value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else {
                throw settings.invalid("trail-name", "\"\(value)\" is not a trail name (3-128 letters, digits, '.', '_', '-')")
            }
            trailName = value
        }
        if let value = try settings.integer(Self.keys["max-ingest-bytes"]) {
            maxIngestBytes = value
            maxDecompressedBytes = max(maxDecompressedBytes, value * 4)
        }
        if let value = try settings.integer(Self.keys["max-concurrent-ingest"]) { maxConcurrentIngest = value }
        if let value = try settings.integer(Self.keys["max-record-bytes"]) { maxRecordBytes = value }
        if let value = try settings.integer(Self.keys["max-connections"]) { maxConnections = value }
        if let value = try settings.integer(Self.keys["max-connections-per-address"]) { maxConnectionsPerAddress = value }
        if let value = try settings.integer(Self.keys["request-timeout-ms"]) { requestTimeout = .milliseconds(value) }
        var keys: [AccessKey] = []
        if let path = try settings.string("access-key-file") {
            guard let mode = Self.permissions(path), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw settings.invalid("access-key-file", "\(path) does not exist or is not readable")
            }
            // Secrets: like ssh with a private key, refuse a file others can read.
            guard mode & 0o077 == 0 else {
                throw settings.invalid("access-key-file", "\(path) is readable by others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it")
            }
            do {
                keys += try AccessKeys(fileText: text).keys.values.sorted { $0.id < $1.id }
            } catch {
                throw settings.invalid("access-key-file", "\(path) \(error)")
            }
        }
        for flag in try settings.strings("access-key") ?? [] {
            do {
                keys.append(try AccessKeys.parseFlag(flag))
            } catch {
                throw settings.invalid("access-key", error.description)
            }
        }
        accessKeys = AccessKeys(keys)
        for name in try settings.strings("fleet-reader") ?? [] {
            guard !name.isEmpty, !IdentifierText.containsControlCharacter(name) else {
                throw settings.invalid("fleet-reader", "\"\(name)\" is not a certificate common name")
            }
            fleetReaders.insert(name)
        }
        if let value = try settings.integer(Self.keys["retention-days"]) { retentionDays = value }
        if let value = try settings.integer(Self.keys["retention-interval-ms"]) { retentionInterval = .milliseconds(value) }
        try readArchiveSettings(settings)
        try readInsightSettings(settings)
        try readRuleSettings(settings)
        if let value = try settings.string("revocation-file") {
            // Read and parsed now too, so `validate` and a start both name a broken line.
            guard let text = try? String(contentsOfFile: value, encoding: .utf8) else {
                throw settings.invalid("revocation-file", "\(value) does not exist or is not readable")
            }
            do {
                _ = try RevocationList(fileText: text)
            } catch {
                throw settings.invalid("revocation-file", "\(value) \(error)")
            }
            revocationFile = value
        }
        if let value = try settings.string("metrics-listen") {
            if value == "none" {
                metricsListen = nil
            } else {
                guard let address = ListenAddress(value) else {
                    throw settings.invalid("metrics-listen", "\"\(value)\" is not HOST:PORT, unix:/PATH or none")
                }
                metricsListen = address
            }
        }
        if let value = try settings.integer(Self.keys["min-free-disk-mb"]) { minFreeDiskBytes = value << 20 }
        if let value = try settings.string("log-level"),
            !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value)
        {
            throw settings.invalid("log-level", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        if let value = try settings.string("log-format"), LogFormat(rawValue: value) == nil {
            throw settings.invalid("log-format", "must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    mutating func readArchiveSettings(_ settings: ConfigSettings) throws {
        if let value = try settings.bool("archive") { archive = value }
        if let value = try settings.string("archive-dir") {
            guard value.hasPrefix("/") || value.hasPrefix(".") else { throw settings.invalid("archive-dir", "must be a path") }
            archiveDirectory = value
        }
        func duration(_ key: String, minimum: Int) throws -> Duration? {
            guard let text = try settings.string(key) else { return nil }
            guard let seconds = TrailTime.parseDuration(text), Int(seconds) >= minimum, seconds <= 7 * 86_400 else {
                throw settings.invalid(key, "\"\(text)\" is not a duration of \(minimum) s to 7 days like 10s, 5m, 1h")
            }
            return .seconds(Int(seconds))
        }
        if let value = try duration("log-file-interval", minimum: 1) { logFileInterval = value }
        if let value = try duration("digest-interval", minimum: 5) { digestInterval = value }
        if let value = try settings.string("signing-key") {
            guard FileManager.default.isReadableFile(atPath: value) else {
                throw settings.invalid("signing-key", "\(value) does not exist or is not readable")
            }
            signingKeyFile = value
        }
        if let value = try settings.string("s3-endpoint") {
            guard value.hasPrefix("https://") || value.hasPrefix("http://"), !value.dropFirst(8).isEmpty else {
                throw settings.invalid("s3-endpoint", "\"\(value)\" is not an http(s):// URL")
            }
            s3Endpoint = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = try settings.string("s3-bucket") {
            // S3's bucket naming rules, so the name works path-style anywhere.
            guard (3...63).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }),
                value.first?.isLetter == true || value.first?.isNumber == true
            else { throw settings.invalid("s3-bucket", "\"\(value)\" is not a bucket name (3-63 lower-case letters, digits, '-', '.')") }
            s3Bucket = value
        }
        if let value = try settings.string("s3-prefix") {
            guard value.count <= 200, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }), !value.contains("..")
            else {
                throw settings.invalid("s3-prefix", "\"\(value)\" is not a key prefix (letters, digits, '-', '_', '.', '/')")
            }
            s3Prefix = value
        }
        if let value = try settings.string("s3-region") { s3Region = value }
        if let value = try settings.string("s3-ca") { s3CAFile = value }
        if let path = try settings.string("s3-credentials-file") {
            guard let mode = Self.permissions(path), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw settings.invalid("s3-credentials-file", "\(path) does not exist or is not readable")
            }
            guard mode & 0o077 == 0 else {
                throw settings.invalid("s3-credentials-file", "\(path) is readable by others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it")
            }
            do {
                let key = try AccessKeys.parseCredentialsFile(text)
                s3Credentials = S3Credentials(id: key.id, secret: key.secret)
            } catch {
                throw settings.invalid("s3-credentials-file", "\(path) \(error)")
            }
        }
        if s3Endpoint != nil && s3Credentials == nil {
            throw settings.invalid("s3-endpoint", "needs s3-credentials-file (ACCESS_KEY_ID SECRET)")
        }
    }

    mutating func readRuleSettings(_ settings: ConfigSettings) throws {
        if let value = try settings.string("rules-dir") { rulesDirectory = value }
        if let value = try settings.integer(Self.keys["rules-max-groups"]) { rulesMaxGroups = value }
        if let value = try settings.integer(Self.keys["actions-max-concurrent"]) { actionsMaxConcurrent = value }
    }

    mutating func readInsightSettings(_ settings: ConfigSettings) throws {
        if let value = try settings.bool("insights") { insights = value }
        func duration(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = try settings.string(key) else { return nil }
            guard let seconds = TrailTime.parseDuration(text), range.contains(Int(seconds)) else {
                throw settings.invalid(
                    key, "\"\(text)\" is not a duration of \(range.lowerBound) s to \(range.upperBound / 86_400) days like 30s, 10m, 24h")
            }
            return Int(seconds)
        }
        func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let text = try settings.string(key) else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw settings.invalid(key, "\"\(text)\" is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        if let value = try settings.integer(Self.keys["insights-window-days"]) { insightSettings.windowDays = value }
        if let value = try duration("insights-min-history", 60...(28 * 86_400)) { insightSettings.minimumHistoryMinutes = value / 60 }
        if let value = try duration("insights-grace", 0...3600) { insightsGrace = .seconds(value) }
        if let value = try number("insights-probability", 1e-300...0.5) { insightSettings.probability = value }
        if let value = try number("insights-warm-up-probability", 1e-300...0.5) { insightSettings.warmUpProbability = value }
        if let value = try settings.integer(Self.keys["insights-min-count"]) { insightSettings.minimumCount = value }
        if let value = try number("insights-multiplier", 1...1000) { insightSettings.multiplier = value }
        if let value = try number("insights-drop-min-mean", 0...1e9) { insightSettings.minimumMeanForDrops = value }
        if let value = try settings.integer(Self.keys["insights-start-minutes"]) { insightSettings.startMinutes = value }
        if let value = try settings.integer(Self.keys["insights-end-minutes"]) { insightSettings.endMinutes = value }
        if let value = try settings.integer(Self.keys["insights-max-keys"]) { insightSettings.maximumKeys = value }
    }

    /// The trail's ARN, as `DescribeTrails` reports it and records carry it.
    public var trailARN: String {
        "arn:aws:cloudtrail:\(region):\(accountID):trail/\(trailName)"
    }

    /// A file's permission bits; `nil` when it cannot be looked at.
    static func permissions(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    /// `HOST:PORT` or `[V6]:PORT`.
    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }

    /// Files that are missing or unreadable.
    public func checkFiles() -> [ConfigurationError] {
        [("tls-cert", tlsCertificateFile), ("tls-key", tlsKeyFile), ("client-ca", clientCAFile)].compactMap { key, path in
            FileManager.default.isReadableFile(atPath: path)
                ? nil : ConfigurationError(.invalidValue, key: key, reason: "\(path) does not exist or is not readable")
        }
    }
}
