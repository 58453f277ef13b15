// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import FoundationEssentials
import Logging
import NIOPosix
import ServiceLifecycle
import TrailCore
import TrailMetrics
import TrailSystemd
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The agent, assembled: spool, application socket, log file tailing, shipper, lifecycle records, readiness.
///
/// ```swift
/// let agent = try await Agent.start(configuration: configuration, logger: logger)
/// try await agent.run()   // until SIGTERM or SIGINT
/// ```
public struct Agent: Sendable {
    let group: ServiceGroup
    public let spool: Spool

    /// Locks and recovers the spool and prepares the services; the socket is bound when ``run()`` starts them.
    ///
    /// - Throws: ``AgentError`` when the spool is locked, the socket is taken, or the host has no machine id.
    public static func start(configuration: AgentConfiguration, reload: ConfigurationReload? = nil, logger: Logger) throws -> Agent {
        // A fixed mmap threshold: buffers over 4 MiB (a shipped batch and its gzip) go back to the
        // kernel when freed. glibc's default raises the threshold after the first such free (up
        // to 32 MiB), and the heap then keeps up to twice as much resident: at a steady 10k
        // events/s the agent's anonymous memory varied between 7 and 24 MiB from run to run. At
        // 128 KiB it stays at 5.6, but every tailed chunk's frames (~2.5 MB) are then a fresh
        // mapping, which cost the tailer a tenth of its throughput; at 4 MiB they stay in the heap.
        mallopt(mmapThreshold, 4 << 20)
        // Two malloc arenas. glibc gives each thread that finds the arenas busy one of its own (up
        // to 8 per core), and memory freed in one arena is not reused by the others: at a steady
        // 10k events/s the agent's anonymous memory was 7.7–8.5 MiB with the default and 5.4–5.5
        // with two, at the same throughput (docs/performance.md, "Agent memory").
        mallopt(arenaMax, 2)
        // A program run for a response that exits without reading its input must fail the write
        // with EPIPE, not end the agent (SIGPIPE's default).
        signal(SIGPIPE, SIG_IGN)
        let host = try HostIdentityReader.read(hostname: configuration.hostname)
        let me = PeerCredentialsResolver.resolve(pid: getpid(), uid: getuid(), gid: getgid())
        let agentRecords = AgentRecordBuilder(
            host: host, version: HostTrailVersion.current, configurationHash: configuration.settingsHash, process: me, runStarted: Date())
        let drops = EventsDroppedRecordFactory(builder: agentRecords)
        let spool = try Spool(configuration: configuration.spool, logger: logger, eventsDroppedRecord: { drops.record($0) })
        let hostRules = HostRuleDirectory(path: configuration.hostRulesDirectory)
        for refused in hostRules.refused {
            logger.error("a host rule is refused; it is not evaluated", metadata: ["file": "\(refused.file)", "error": "\(refused.error)"])
        }
        let responses = ResponseDirectory(path: configuration.responsesDirectory)
        for refused in responses.refused {
            logger.error("a response definition is refused; that response is not performed", metadata: ["error": "\(refused)"])
        }
        // Host rules see what the spool has committed, and act through the responses.
        let evaluator =
            hostRules.rules.isEmpty || responses.definitions.isEmpty
            ? nil : HostRuleEvaluator(rules: hostRules.rules, host: host.hostname ?? "", logger: logger)
        if !hostRules.rules.isEmpty && responses.definitions.isEmpty {
            logger.error("host rules are not evaluated: this host defines no responses for them to ask for")
        }
        // Every source commits through its own context into the one sink, the spool.
        let contexts = SourceContexts(
            sink: evaluator.map { RuleTeeSink(sink: spool, evaluator: $0) } ?? spool, readiness: SourceReadiness(), logger: logger)
        let registry = MetricsRegistry()
        let shipping = AgentMetrics.shipperState(registry)
        let health = AgentHealth(spool: spool, shipper: shipping, readiness: contexts.readiness)
        let applicationRecords = LiveValue(ApplicationRecordBuilder(host: host, claims: configuration.eventSourceClaims))
        let rateLimiter = ApplicationRateLimiter(rate: Double(configuration.rateLimit), burst: Double(configuration.rateLimitBurst))
        let processor = APIRequestProcessor(
            context: contexts.make(APISocketServer.sourceName), builder: applicationRecords, rateLimiter: rateLimiter, health: health,
            logger: logger)
        let socketServer = APISocketServer(configuration: configuration, processor: processor, logger: logger)
        let shipper = try Shipper(
            spool: spool, replay: contexts.make("dead-letter", awaitedForReadiness: false, sink: spool), configuration: configuration,
            state: shipping, logger: logger)
        let lifecycle = AgentLifecycleService(
            spool: spool, contexts: contexts, builder: agentRecords, heartbeatInterval: configuration.heartbeatInterval, logger: logger)
        let selectors = LiveValue(configuration.eventSelectors)
        let tailFiles = LiveValue(configuration.tailFiles)
        let files = FileTailService(
            configuration: configuration, contexts: contexts, host: host, agentRecords: agentRecords, liveSelectors: selectors,
            liveTailFiles: reload == nil ? nil : tailFiles, logger: logger)
        var sources: [any Service] = [files]
        if configuration.journal {
            let reader = JournalReader(
                directory: configuration.journalDirectory, readFrom: configuration.readFrom, context: contexts.make(JournalReader.sourceName),
                converter: JournalEntryConverter(
                    builder: HostRecordBuilder(host: host, hideUnverifiedUserNames: configuration.hideUnknownUserNames, accountNames: .system),
                    selectors: configuration.eventSelectors),
                liveSelectors: selectors, agentRecords: agentRecords, logger: logger)
            sources.append(JournalService(reader: reader))
        }
        var responders: [any Service] = []
        var responseService: ResponseService?
        if !responses.definitions.isEmpty {
            let url = configuration.collectorURL.hasSuffix("/") ? String(configuration.collectorURL.dropLast()) : configuration.collectorURL
            let service = ResponseService(
                definitions: responses.definitions,
                protectedAddresses: ProtectedAddresses.of(collectorURL: configuration.collectorURL, proxy: configuration.proxy),
                executor: ResponseExecutor(firewall: NftablesFirewall(table: configuration.firewallTable), host: host.hostname ?? ""),
                bookFile: ResponseBookFile(directory: configuration.spool.directory),
                records: ResponseRecordBuilder(agent: agentRecords), context: contexts.make("responses", awaitedForReadiness: false),
                settings: .init(
                    url: url + "/v1/responses",
                    client: .init(
                        caFile: configuration.caFile, certificateFile: configuration.certificateFile, keyFile: configuration.keyFile,
                        proxy: configuration.proxy, connectTimeout: configuration.connectTimeout,
                        // The long-poll's wait, and room for the answer.
                        totalTimeout: .seconds(ResponsePoll.maxWaitSeconds) + configuration.requestTimeout)),
                logger: logger)
            responders.append(service)
            responseService = service
            if let evaluator {
                evaluator.respond(with: service)
                responders.append(evaluator)
            }
            logger.info(
                "responses defined",
                metadata: [
                    "responses": "\(responses.definitions.map(\.name).joined(separator: ","))",
                    "host-rules": "\(evaluator == nil ? "" : hostRules.rules.map(\.name).joined(separator: ","))",
                ])
        }
        // Operators' views: metrics (scraped or written to a textfile) and health.
        _ = AgentMetrics(registry: registry, spool: spool, contexts: contexts, shipper: shipping, health: health)  // kept by the registry
        var operatorViews: [any Service] = []
        if let address = configuration.metricsListen {
            operatorViews.append(
                MetricsListener(
                    address: address, registry: registry,
                    endpoints: [
                        "/v1/health": {
                            let report = health.report()
                            return .init(status: report.httpStatus, json: report.body.serialized())
                        }
                    ], logger: logger))
        }
        if let path = configuration.metricsTextfile {
            operatorViews.append(MetricsTextfile(path: path, registry: registry, logger: logger))
        }
        if let reload {
            let reloader = AgentReloader(
                settings: reload.settings, load: reload.load,
                targets: .init(
                    rateLimiter: rateLimiter, applicationRecords: applicationRecords, eventSelectors: selectors, tailFiles: tailFiles,
                    responses: responseService,
                    hostRules: responseService == nil ? nil : evaluator, configurationHash: lifecycle.configurationHash),
                logger: logger)
            operatorViews.append(SystemdReloadService { reloader.reload() })
        }
        let readiness = ReadinessService(
            status: "serving \(configuration.socketPath), shipping to \(configuration.collectorURL)", sources: contexts.readiness,
            health: health, logger: logger)
        // Shutdown runs in reverse: readiness, the journal and file tailing, socket, lifecycle
        // (AgentStopped), then the shipper drains.
        let group = ServiceGroup(
            configuration: .init(
                services: [shipper, lifecycle, socketServer] + responders + sources + operatorViews + [readiness],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        return Agent(group: group, spool: spool)
    }

    /// `M_MMAP_THRESHOLD` and `M_ARENA_MAX` in `<malloc.h>`.
    static let mmapThreshold: Int32 = -3
    static let arenaMax: Int32 = -8

    /// glibc's `mallopt(option, value)`. `<malloc.h>` is not in Swift's Glibc module, so the
    /// function is looked up by name (with the C calling convention); without it the default stays.
    static func mallopt(_ option: Int32, _ value: Int32) {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let process = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(process) }
        guard let symbol = dlsym(process, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(option, value)
    }

    /// Runs until a graceful shutdown (SIGTERM, SIGINT) completes.
    public func run() async throws {
        try await group.run()
        spool.close()
    }
}
