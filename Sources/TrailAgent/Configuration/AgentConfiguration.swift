// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore
import TrailMetrics
import TrailSystemd

/// Everything the agent is told, with the defaults a packaged install uses.
///
/// Built from ``ConfigSettings``: the TOML file (`/etc/hosttrail/agent.toml` by default) with flat
/// keys equal to the flag names, overridden by flags.
public struct AgentConfiguration: Sendable, Hashable {
    /// The collector's base URL, `https://host:port`. Required.
    public var collectorURL: String
    /// The spool directory. Default: `/var/lib/hosttrail/spool`.
    public var spoolDirectory: String {
        get { spool.directory }
        set { spool.directory = newValue }
    }
    /// The spool: directory, bound, full policy, segment size, commit interval.
    public var spool: SpoolConfiguration
    /// The application socket. Default: `/run/hosttrail/api.sock`.
    public var socketPath: String
    /// Mode of the socket file. Default: `0o660`.
    public var socketMode: Int
    /// Owner of the socket file (a user name or uid). Default: `root`.
    public var socketOwner: String
    /// Group of the socket file; applications in it may write. Default: `hosttrail` (kept as root's
    /// group, with a warning, when no such group exists).
    public var socketGroup: String
    /// CA that signed the collector's certificate. Default: `/etc/hosttrail/ca.pem`.
    public var caFile: String
    /// This host's client certificate. Default: `/etc/hosttrail/agent.pem`.
    public var certificateFile: String
    /// Its private key. Default: `/etc/hosttrail/agent-key.pem`.
    public var keyFile: String
    /// The host's name in records; must equal the certificate's CN. Default: `nil` (the collector
    /// names records after the certificate's CN).
    public var hostname: String?
    /// Records per shipped batch. Default: 500.
    public var batchMaxRecords: Int
    /// How long a record may wait for a fuller batch. Default: 200 ms.
    public var batchMaxAge: Duration
    /// Uncompressed bytes per shipped batch. Default: 4 MiB.
    public var batchMaxBytes: Int
    /// Connecting to the collector gives up after this. Default: 10 s.
    public var connectTimeout: Duration
    /// One request to the collector gives up after this. Default: 60 s.
    public var requestTimeout: Duration
    /// An HTTP(S) proxy for the collector. Default: `nil`.
    public var proxy: String?
    /// Request-body limit on the socket. Default: 5 MiB, like CloudTrail's PutAuditEvents.
    public var maxRequestBytes: Int
    /// A request must be complete this long after the connection opened or the previous reply
    /// (a slow one gets `408`, an idle connection is closed), however steadily it trickles in.
    /// Default: 10 s.
    public var socketReadTimeout: Duration
    /// Connections the socket serves at once; more are answered `503` and closed. Default: 1024,
    /// and never more than the descriptor limit allows (``connectionCaps(descriptorLimit:)``).
    public var maxConnections: Int
    /// Connections one account (uid) may hold at once; root is not capped. Default: 64.
    public var maxConnectionsPerUID: Int
    /// Events a second one uid may send through the socket (`429` with `Retry-After` beyond);
    /// 0 turns the limit off; root is never limited. Default: 10,000.
    public var rateLimit: Int
    /// Events one uid may send at once before the rate applies. Default: twice ``rateLimit``, at least 1,000.
    public var rateLimitBurst: Int
    /// Which processes may write which event sources (``EventSourceClaims``). Default: none (every
    /// name except the agent's own `*.linux` and `*.hosttrail` is open).
    public var eventSourceClaims: EventSourceClaims
    /// Log files to tail. Default: `/var/log/auth.log`, `/var/log/secure`, `/var/log/dpkg.log`, `/var/log/apt/history.log`
    /// (a path that does not exist on this distribution is waited for silently).
    public var tailFiles: [String]
    /// Where a source starts when it has no checkpoint yet. Default: ``ReadFrom/boot``.
    public var readFrom: ReadFrom
    /// Record failed logins for accounts that do not exist with the user name hidden, as
    /// CloudTrail does. Default: `true`.
    public var hideUnknownUserNames: Bool
    /// How often tailed files are checked for new lines. Default: 250 ms.
    public var filePollInterval: Duration
    /// Read journald. Default: `true`. While the journal is read, auth.log and secure are watched
    /// for tampering only: journald already holds what rsyslog wrote there, and one activity must
    /// make one record.
    public var journal: Bool
    /// Read the journal files in this directory instead of the local machine's journal (a copy
    /// from another machine, a journald namespace, fixtures). Default: `nil`.
    public var journalDirectory: String?
    /// Which host activity is recorded: ``EventSelector`` strings such as
    /// `include identifier=nginx` or `exclude eventSource=cron.linux`. Default: none (what the
    /// parsers understand is recorded; other lines are dropped and counted).
    public var eventSelectors: EventSelectors
    /// Where the responses this host performs are defined (``ResponseDefinition``, one file
    /// each). Default: `/etc/hosttrail/responses.d`; with none defined the agent asks for none.
    public var responsesDirectory: String
    /// The host's own rules (``HostRuleDirectory``): JSON rule files evaluated on this host's
    /// records, acting through its responses. Default: `/etc/hosttrail/host-rules.d`.
    public var hostRulesDirectory: String
    /// How often the agent records an `agent.hosttrail Heartbeat`. Default: 5 minutes.
    public var heartbeatInterval: Duration
    /// The nftables table of `block-address` responses (family `inet`). Default: `hosttrail`.
    public var firewallTable: String
    /// Where `/metrics` and `GET /v1/health` are served over plain HTTP (``ListenAddress``).
    /// Default: nowhere; a TCP address must be a loopback one.
    public var metricsListen: ListenAddress?
    /// The node_exporter textfile the metrics are written to. Default: none.
    public var metricsTextfile: String?
    /// Hash of the effective settings, written into `AgentStarted`.
    public var settingsHash: String

    /// Where to start reading a source that has no checkpoint (the first start).
    public enum ReadFrom: String, Sendable, Hashable, CaseIterable {
        /// Everything the source holds.
        case beginning
        /// What was logged since the current boot.
        case boot
        /// Only what is logged from now on.
        case end
    }

    /// The most files one agent tails (each checkpoint takes about 250 bytes of a 4 KiB state slot).
    public static let maxTailFiles = 8

    public static let defaultTailFiles = ["/var/log/auth.log", "/var/log/secure", "/var/log/dpkg.log", "/var/log/apt/history.log"]

    /// Every key the file and the flags accept (``keys``).
    public static let knownKeys: Set<String> = keys.names

    /// The default configuration file.
    public static let defaultFile = "/etc/hosttrail/agent.toml"

    public init(
        collectorURL: String,
        spoolDirectory: String = "/var/lib/hosttrail/spool",
        socketPath: String = "/run/hosttrail/api.sock",
        socketMode: Int = 0o660,
        socketGroup: String = "hosttrail",
        caFile: String = "/etc/hosttrail/ca.pem",
        certificateFile: String = "/etc/hosttrail/agent.pem",
        keyFile: String = "/etc/hosttrail/agent-key.pem",
        hostname: String? = nil,
        batchMaxRecords: Int = 500,
        batchMaxAge: Duration = .milliseconds(200),
        batchMaxBytes: Int = 4 * 1024 * 1024,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(60),
        proxy: String? = nil,
        maxRequestBytes: Int = 5 * 1024 * 1024,
        socketReadTimeout: Duration = .seconds(10),
        settingsHash: String = ""
    ) {
        self.collectorURL = collectorURL
        self.spool = SpoolConfiguration(directory: spoolDirectory)
        self.socketPath = socketPath
        self.socketMode = socketMode
        socketOwner = "root"
        self.socketGroup = socketGroup
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.hostname = hostname
        self.batchMaxRecords = batchMaxRecords
        self.batchMaxAge = batchMaxAge
        self.batchMaxBytes = batchMaxBytes
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.proxy = proxy
        self.maxRequestBytes = maxRequestBytes
        self.socketReadTimeout = socketReadTimeout
        self.settingsHash = settingsHash
        tailFiles = Self.defaultTailFiles
        readFrom = .boot
        hideUnknownUserNames = true
        filePollInterval = .milliseconds(250)
        journal = true
        journalDirectory = nil
        eventSelectors = EventSelectors()
        maxConnections = 1024
        maxConnectionsPerUID = 64
        rateLimit = 10_000
        rateLimitBurst = 20_000
        eventSourceClaims = EventSourceClaims()
        responsesDirectory = "/etc/hosttrail/responses.d"
        hostRulesDirectory = "/etc/hosttrail/host-rules.d"
        heartbeatInterval = .seconds(300)
        firewallTable = NftablesFirewall.defaultTable
    }

    /// Whether lines of the tailed file `path` are converted, or only watched for tampering: with
    /// the journal on, the auth logs journald forwards to rsyslog are not read twice. A host where
    /// journald is not running (a container with rsyslog alone) keeps the files as the source.
    public func convertsLines(of path: String, journaldRunning: Bool) -> Bool {
        guard journal && (journaldRunning || journalDirectory != nil) else { return true }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return !(name == "auth.log" || name == "secure")
    }

    /// Builds and checks a configuration.
    ///
    /// - Throws: ``ConfigurationError`` naming the file (or flag), the key and the reason.
    public init(settings: ConfigSettings) throws {
        guard let collector = try settings.string("collector") else {
            throw settings.missing("collector", "the collector's URL is required, e.g. https://collector.example:8443")
        }
        guard let url = URL(string: collector), url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw settings.invalid("collector", "\"\(collector)\" is not an https:// URL")
        }
        self.init(collectorURL: collector.hasSuffix("/") ? String(collector.dropLast()) : collector)
        if let value = try settings.string("spool-dir") { spoolDirectory = try Self.absolutePath(value, "spool-dir", settings) }
        if let value = try settings.string("socket") {
            socketPath = try Self.absolutePath(value, "socket", settings)
            // sun_path holds 108 bytes including the terminating NUL.
            guard socketPath.utf8.count < 108 else { throw settings.invalid("socket", "a socket path must be shorter than 108 bytes") }
        }
        if let value = try settings.string("socket-mode") {
            guard let mode = Int(value, radix: 8), (0...0o777).contains(mode) else {
                throw settings.invalid("socket-mode", "\"\(value)\" is not an octal file mode like 0660")
            }
            socketMode = mode
        }
        if let value = try settings.string("socket-group") { socketGroup = value }
        if let value = try settings.string("socket-owner") {
            guard UInt32(value) != nil || PeerCredentialsResolver.userID(name: value) != nil else {
                throw settings.invalid("socket-owner", "there is no user \(value) on this host")
            }
            socketOwner = value
        }
        if let value = try settings.string("ca") { caFile = value }
        if let value = try settings.string("cert") { certificateFile = value }
        if let value = try settings.string("key") { keyFile = value }
        if let value = try settings.string("hostname") {
            guard Self.isValidHostname(value) else {
                throw settings.invalid("hostname", "\"\(value)\" is not a host name (letters, digits, '.', '-', at most 253 bytes)")
            }
            hostname = value
        }
        if let value = try settings.integer(Self.keys["spool-max-bytes"]) {
            spool = SpoolConfiguration(
                directory: spool.directory, maxBytes: value, fullPolicy: spool.fullPolicy, commitInterval: spool.commitInterval)
        }
        if let value = try settings.string("spool-full-policy") {
            guard let policy = SpoolConfiguration.FullPolicy(value) else {
                throw settings.invalid("spool-full-policy", "\"\(value)\" is not a policy; use block or drop_oldest")
            }
            spool.fullPolicy = policy
        }
        if let value = try settings.integer(Self.keys["spool-commit-interval-ms"]) { spool.commitInterval = .milliseconds(value) }
        if let value = try settings.integer(Self.keys["batch-max-records"]) { batchMaxRecords = value }
        if let value = try settings.integer(Self.keys["batch-max-age-ms"]) { batchMaxAge = .milliseconds(value) }
        if let value = try settings.integer(Self.keys["batch-max-bytes"]) { batchMaxBytes = value }
        if let value = try settings.integer(Self.keys["connect-timeout-ms"]) { connectTimeout = .milliseconds(value) }
        if let value = try settings.integer(Self.keys["request-timeout-ms"]) { requestTimeout = .milliseconds(value) }
        if let value = try settings.string("proxy") { proxy = value }
        if let value = try settings.integer(Self.keys["max-request-bytes"]) { maxRequestBytes = value }
        if let value = try settings.integer(Self.keys["socket-read-timeout-ms"]) {
            socketReadTimeout = .milliseconds(value)
        }
        if let value = try settings.integer(Self.keys["max-connections"]) { maxConnections = value }
        if let value = try settings.integer(Self.keys["max-connections-per-uid"]) { maxConnectionsPerUID = value }
        if let value = try settings.integer(Self.keys["rate-limit"]) {
            rateLimit = value
            rateLimitBurst = max(2 * value, 1000)
        }
        if let value = try settings.integer(Self.keys["rate-limit-burst"]) { rateLimitBurst = value }
        if let values = try settings.strings("event-source-claim") {
            do {
                eventSourceClaims = try EventSourceClaims(
                    parsing: values, userID: PeerCredentialsResolver.userID(name:), groupID: PeerCredentialsResolver.groupID(name:))
            } catch {
                throw settings.invalid("event-source-claim", error.description)
            }
        }
        if let files = try settings.strings("tail-file") {
            tailFiles = try files.map { try Self.absolutePath($0, "tail-file", settings) }
            guard Set(tailFiles).count == tailFiles.count else { throw settings.invalid("tail-file", "a file is listed twice") }
            // Every file's checkpoint is kept in the spool's state file, whose slots are 4 KiB.
            guard tailFiles.count <= Self.maxTailFiles else {
                throw settings.invalid("tail-file", "at most \(Self.maxTailFiles) files can be tailed, \(tailFiles.count) are listed")
            }
        }
        if try settings.bool("no-tail-files") == true { tailFiles = [] }
        if let value = try settings.string("read-from") {
            guard let start = ReadFrom(rawValue: value) else {
                throw settings.invalid("read-from", "\"\(value)\" is not one of beginning, boot, end")
            }
            readFrom = start
        }
        if let value = try settings.bool("hide-unknown-user-names") { hideUnknownUserNames = value }
        if let value = try settings.integer(Self.keys["file-poll-interval-ms"]) { filePollInterval = .milliseconds(value) }
        if let value = try settings.bool("journal") { journal = value }
        if let value = try settings.string("journal-directory") { journalDirectory = try Self.absolutePath(value, "journal-directory", settings) }
        if let values = try settings.strings("event-selector") {
            do {
                eventSelectors = EventSelectors(try values.map { text throws(EventSelector.ParseError) in try EventSelector(parsing: text) })
            } catch {
                throw settings.invalid("event-selector", error.description)
            }
        }
        if let value = try settings.string("responses-dir") { responsesDirectory = try Self.absolutePath(value, "responses-dir", settings) }
        if let value = try settings.integer(Self.keys["heartbeat-interval-ms"]) { heartbeatInterval = .milliseconds(value) }
        if let value = try settings.string("host-rules-dir") { hostRulesDirectory = try Self.absolutePath(value, "host-rules-dir", settings) }
        if let value = try settings.string("firewall-table") {
            guard Self.isValidFirewallTable(value) else {
                throw settings.invalid("firewall-table", "\"\(value)\" is not 1-32 lower-case letters, digits, '-' or '_'")
            }
            firewallTable = value
        }
        if let value = try settings.string("metrics-listen"), value != "none" {
            guard let address = ListenAddress(value) else {
                throw settings.invalid("metrics-listen", "\"\(value)\" is not HOST:PORT or unix:/PATH")
            }
            if case .tcp(let host, _) = address, !Self.isLoopback(host) {
                // The agent's metrics and health name its sources and files: for this host's eyes.
                throw settings.invalid("metrics-listen", "\"\(host)\" is not a loopback address (127.0.0.0/8, ::1 or localhost)")
            }
            metricsListen = address
        }
        if let value = try settings.string("metrics-textfile"), value != "none" {
            let path = try Self.absolutePath(value, "metrics-textfile", settings)
            // node_exporter's textfile collector reads *.prom only.
            guard path.hasSuffix(".prom") else { throw settings.invalid("metrics-textfile", "\"\(value)\" must end in .prom") }
            metricsTextfile = path
        }
        if let value = try settings.string("log-level"), !Self.logLevels.contains(value) {
            throw settings.invalid("log-level", "must be one of \(Self.logLevels.joined(separator: ", "))")
        }
        if let value = try settings.string("log-format"), LogFormat(rawValue: value) == nil {
            throw settings.invalid("log-format", "must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        settingsHash = settings.hash
    }

    /// 1-32 lower-case letters, digits, `-` or `_`: what goes into `nft`'s script as the table's name.
    public static func isValidFirewallTable(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0 == 0x5F || $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// `localhost`, `::1` or an IPv4 literal in 127.0.0.0/8 (no name that merely starts with 127).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil && $0.count <= 3 }
    }

    static func absolutePath(_ value: String, _ key: String, _ settings: ConfigSettings) throws -> String {
        guard value.hasPrefix("/") else { throw settings.invalid(key, "\"\(value)\" must be an absolute path") }
        return value
    }

    static func isValidHostname(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 253
            && name.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 95
            }
    }

    /// Problems only the running system shows: files that are missing or unreadable.
    ///
    /// `validate` reports them; the agent itself reports the same when it starts.
    public func checkFiles() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for (key, path) in [("ca", caFile), ("cert", certificateFile), ("key", keyFile)] {
            if !FileManager.default.isReadableFile(atPath: path) {
                problems.append(ConfigurationError(.invalidValue, key: key, reason: "\(path) does not exist or is not readable"))
            }
        }
        return problems
    }

    /// The socket's connection caps under a descriptor limit (``ConnectionTally/cap(configured:descriptorLimit:)``:
    /// what stays is for spool segments, journal files, tailed logs and the collector's connection).
    public func connectionCaps(descriptorLimit: Int) -> (total: Int, perUID: Int) {
        let total = ConnectionTally<UInt32>.cap(configured: maxConnections, descriptorLimit: descriptorLimit)
        return (total, min(maxConnectionsPerUID, total))
    }
}
