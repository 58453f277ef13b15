// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TrailCore
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// The agent, assembled: spool, application socket, shipper, lifecycle records, readiness.
///
/// ```swift
/// let agent = try await Agent.start(configuration: configuration, logger: logger)
/// try await agent.run()   // until SIGTERM or SIGINT
/// ```
public struct Agent: Sendable {
    let group: ServiceGroup
    public let spool: Spool

    /// Locks the spool, binds the socket and prepares the shipper.
    ///
    /// - Throws: ``AgentError`` when the spool is locked, the socket is taken, or the host has no machine id.
    public static func start(configuration: AgentConfiguration, logger: Logger) async throws -> Agent {
        let host = try HostIdentityReader.read(hostname: configuration.hostname)
        let spool = try Spool(directory: configuration.spoolDirectory, logger: logger)
        let processor = APIRequestProcessor(spool: spool, builder: ApplicationRecordBuilder(host: host), logger: logger)
        let socketServer = try await APISocketServer.bind(configuration: configuration, processor: processor, logger: logger)
        let shipper = try Shipper(spool: spool, configuration: configuration, logger: logger)
        let me = PeerCredentialsResolver.resolve(pid: getpid(), uid: getuid(), gid: getgid())
        let lifecycle = AgentLifecycleService(
            spool: spool,
            builder: AgentRecordBuilder(
                host: host, version: HostTrailVersion.current, configurationHash: configuration.settingsHash, process: me,
                runStarted: Date()),
            logger: logger)
        let readiness = ReadinessService(status: "serving \(configuration.socketPath), shipping to \(configuration.collectorURL)", logger: logger)
        // Shutdown runs in reverse: readiness, socket, lifecycle (AgentStopped), then the shipper drains.
        let group = ServiceGroup(
            configuration: .init(
                services: [shipper, lifecycle, socketServer, readiness],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        return Agent(group: group, spool: spool)
    }

    /// Runs until a graceful shutdown (SIGTERM, SIGINT) completes.
    public func run() async throws {
        try await group.run()
    }
}
