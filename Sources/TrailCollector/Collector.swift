// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TrailCore
import TrailMetrics
import TrailSystemd
import UnixSignals

/// The collector, assembled: the embedded store and the one HTTPS listener.
///
/// ```swift
/// let collector = try Collector(configuration: configuration, logger: logger)
/// try await collector.run()   // until SIGTERM or SIGINT
/// ```
public struct Collector: Sendable {
    let group: ServiceGroup
    public let store: SQLiteEventStore

    /// Opens the store and prepares the listener.
    ///
    /// - Parameter onListening: Called with the bound port once the server accepts connections.
    public init(
        configuration: CollectorConfiguration, reload: ConfigurationReload? = nil, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw CollectorError(.storeUnavailable, "cannot create the data directory", context: configuration.dataDirectory, underlyingError: error)
        }
        let storePath = configuration.dataDirectory + "/events.sqlite"
        let pending = try SQLiteEventStore.pendingMigrations(path: storePath)
        var migrating: StartTimeoutExtension?
        if !pending.isEmpty {
            // A rebuild of a large store takes about a minute per million events, before READY=1.
            logger.notice("migrating the event store", metadata: ["steps": "\(pending.joined(separator: ","))", "path": "\(storePath)"])
            migrating = StartTimeoutExtension(status: "migrating the event store (\(pending.joined(separator: ", ")))")
        }
        let store = try {
            defer { migrating?.stop() }
            return try SQLiteEventStore(path: storePath, archiving: configuration.archive)
        }()
        if !pending.isEmpty { logger.notice("event store migrated", metadata: ["steps": "\(pending.joined(separator: ","))"]) }
        var archiveServices: [any Service] = []
        var ledger: (any ArchiveLedger)?
        // Every consumer of stored records is added here, once.
        var consumers: [any IngestConsumer] = []
        if configuration.archive {
            let archiveLedger = store.archiveLedger
            let signingKey = try SigningKeyFiles.load(configured: configuration.signingKeyFile, directory: configuration.dataDirectory + "/keys")
            do {
                try archiveLedger.useSigningKey(
                    fingerprint: signingKey.publicKey.fingerprint, der: signingKey.publicKey.pkcs1DER, now: Int64(Date().timeIntervalSince1970))
            } catch {
                throw CollectorError(.storeUnavailable, "cannot record the digest signing key", context: store.path, underlyingError: error)
            }
            let backlog = ArchiveBacklog()
            consumers.append(backlog)
            let writer =
                (ArchiveWriter(
                    ledger: archiveLedger, layout: configuration.archiveLayout, directory: configuration.archivePath, signingKey: signingKey,
                    logFileInterval: configuration.logFileInterval, digestInterval: configuration.digestInterval, backlog: backlog, logger: logger))
            // Stopped last to first: the writer's final digest, then the upload of it.
            if configuration.s3Endpoint != nil {
                archiveServices.append(try ArchiveUploader(configuration: configuration, ledger: archiveLedger, logger: logger))
            }
            archiveServices.append(writer)
            ledger = archiveLedger
        }
        var insightCounter: InsightCounter?
        if configuration.insights {
            // Minutes up to this one are counted from the store at start; later ones as they are stored.
            let counter = InsightCounter(
                settings: configuration.insightSettings,
                resumedThrough: InsightsService.lastClosable(now: Date(), grace: configuration.insightsGrace))
            consumers.append(counter)
            insightCounter = counter
        }
        // Rules read back what was stored, woken by the feed.
        let ruleFeed = RuleFeed()
        consumers.append(ruleFeed)
        let revoked = try RevokedHosts(path: configuration.revocationFile, logger: logger)
        let router = Router(context: CollectorRequestContext.self)
        let pipeline = IngestPipeline(store: store, consumers: consumers)
        let ruleRecords = RuleRecords(binder: RecordBinder(configuration: configuration))
        let desk = ResponseDesk(ledger: store.responseLedger, pipeline: pipeline, binder: RecordBinder(configuration: configuration), logger: logger)
        let metrics = CollectorMetrics()
        let dispatcher = ActionDispatcher(
            ledger: store.ruleLedger, pipeline: pipeline, records: ruleRecords, desk: desk, maxConcurrent: configuration.actionsMaxConcurrent,
            metrics: metrics, logger: logger)
        let ruleBoard = RuleStatusBoard(dispatcherWakeup: dispatcher.wakeup)
        let health = CollectorHealth(store: store, archive: ledger, configuration: configuration)
        metrics.follow(rules: ruleBoard)
        metrics.follow(health: health)
        if let insightCounter { metrics.follow(insights: insightCounter) }
        let routes = CollectorRoutes(
            configuration: configuration, pipeline: pipeline, revoked: revoked, archive: ledger, rules: ruleBoard, responses: desk,
            metrics: metrics, health: health)
        routes.register(on: router)

        let tls = try Self.tlsConfiguration(configuration)
        let host = configuration.listenHost
        let descriptors = DescriptorLimit.current()
        let caps = configuration.connectionCaps(descriptorLimit: descriptors)
        if caps.total < configuration.maxConnections || caps.perAddress < configuration.maxConnectionsPerAddress {
            logger.notice(
                "serving fewer connections than configured: the descriptor limit leaves room for no more, and one address holds at most a quarter",
                metadata: ["connections.max": "\(caps.total)", "connections.max-per-address": "\(caps.perAddress)", "descriptors": "\(descriptors)"])
        }
        let connectionGuard = ConnectionGuard(
            maxConnections: caps.total, maxConnectionsPerAddress: caps.perAddress,
            requestTimeout: .nanoseconds(Int64(configuration.requestTimeout / .nanoseconds(1))), logger: logger)
        let app = Application(
            router: router,
            server: try connectionGuard.server(tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: configuration.listenPort), serverName: "hosttrail-collector"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.listenPort
                let shownHost = host.contains(":") ? "[\(host)]" : host
                logger.notice("listening on https://\(shownHost):\(port)")
                health.markListening()
                SystemdNotifier().ready(status: "listening on https://\(shownHost):\(port)")
                await onListening(port)
            },
            logger: logger
        )
        self.store = store
        // A group stops its services last to first: the hosts' long-polls are answered, the
        // listener stops, then the archive writes what was stored before it and its final digest.
        var services: [any Service] = archiveServices + [app, desk]
        if let address = configuration.metricsListen {
            services.append(
                MetricsListener(
                    address: address, registry: metrics.registry,
                    endpoints: [
                        "/healthz": { .init(status: 200, json: Array(#"{"status":"ok"}"#.utf8)) },
                        "/readyz": {
                            let report = await health.readiness()
                            return .init(status: report.ready ? 200 : 503, json: report.json(detailed: true))
                        },
                    ], logger: logger))
        }
        services.append(CollectorStatusService(health: health))
        if configuration.retentionDays > 0 {
            services.append(
                RetentionService(
                    pipeline: pipeline, records: CollectorRecords(binder: RecordBinder(configuration: configuration)),
                    retention: .seconds(configuration.retentionDays * 86_400), interval: configuration.retentionInterval, logger: logger))
        }
        if let insightCounter {
            services.append(
                InsightsService(
                    counter: insightCounter, pipeline: pipeline, binder: RecordBinder(configuration: configuration),
                    builder: InsightRecordBuilder(windowDays: configuration.insightSettings.windowDays), grace: configuration.insightsGrace,
                    logger: logger))
        }
        let rules = RulesService(
            directory: configuration.rulesDirectory, ledger: store.ruleLedger, pipeline: pipeline, records: ruleRecords, feed: ruleFeed,
            dispatcher: dispatcher, maxGroupsPerRule: configuration.rulesMaxGroups, board: ruleBoard, logger: logger)
        services.append(rules)
        // A reload reads the configuration (when the daemon was given one to read again), the
        // revocation list and the rules.
        let reloader = reload.map { CollectorReloader(settings: $0.settings, load: $0.load, apiAccess: routes.apiAccess, logger: logger) }
        services.append(
            SystemdReloadService {
                reloader?.reload()
                revoked.reload()
                rules.requestReload()
            })
        services.append(dispatcher)
        group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// Server TLS that asks for a client certificate and verifies any it is given.
    ///
    /// A certificate the client CA did not sign fails the handshake. A connection without one is
    /// accepted at the TLS level and then refused by every endpoint but `/healthz` and `/readyz`, with a clear
    /// HTTP error: `/v1/records` needs a certificate whose CN names the host, and the query API
    /// needs a certificate too until SigV4 arrives on the same port.
    static func tlsConfiguration(_ configuration: CollectorConfiguration) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(configuration.tlsCertificateFile).map { NIOSSLCertificateSource.certificate($0) }
            // Load keys as PEM explicitly: NIOSSL guesses DER from a `.key` extension.
            let key = try NIOSSLPrivateKey(file: configuration.tlsKeyFile, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            tls.trustRoots = .file(configuration.clientCAFile)
            tls.certificateVerification = .optionalVerification
            // A peer the guard closes (see ConnectionGuard) does not answer close_notify either:
            // its descriptor is freed 1 s after, not NIOSSL's default 5 s.
            tls.shutdownTimeout = .seconds(1)
            // Fail now, not on the first handshake, when the CA file is unusable.
            _ = try NIOSSLCertificate.fromPEMFile(configuration.clientCAFile)
            return tls
        } catch {
            throw CollectorError(
                .tlsSetup, "cannot load the TLS certificate, key or client CA",
                context: "\(configuration.tlsCertificateFile), \(configuration.tlsKeyFile), \(configuration.clientCAFile)",
                underlyingError: error)
        }
    }

    /// Runs until a graceful shutdown (SIGTERM, SIGINT) completes.
    public func run() async throws {
        try await group.run()
        SystemdNotifier().stopping()
    }
}
