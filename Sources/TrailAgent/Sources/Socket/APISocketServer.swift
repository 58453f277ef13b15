// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import TrailCore
import TrailSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// The application socket: HTTP/1.1 over a Unix stream socket (`POST /v1/events`, `GET /v1/health`).
///
/// ``run()`` binds the socket inside the service group (so a SIGTERM at any moment after the socket
/// exists is a graceful shutdown that removes it), opens `ready` for the readiness notification,
/// serves until graceful shutdown, then closes the listener and removes the socket file.
public final class APISocketServer: Service {
    private let configuration: AgentConfiguration
    private let processor: APIRequestProcessor
    private let logger: Logger

    /// The socket's name among the agent's sources.
    static let sourceName = "socket"

    init(configuration: AgentConfiguration, processor: APIRequestProcessor, logger: Logger) {
        self.configuration = configuration
        self.processor = processor
        self.logger = logger
    }

    public func run() async throws {
        let channel = try await Self.bind(configuration: configuration, processor: processor, logger: logger)
        processor.context.markReady()
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        unlink(configuration.socketPath)
        logger.info("application socket closed", metadata: ["socket.path": "\(configuration.socketPath)"])
    }

    /// Binds the socket at `configuration.socketPath`.
    ///
    /// A socket file left by a killed agent is replaced; a socket another process still answers on
    /// is not (``AgentError`` `socket-in-use`).
    static func bind(
        configuration: AgentConfiguration,
        processor: APIRequestProcessor,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger
    ) async throws -> any Channel {
        let path = configuration.socketPath
        try FileManager.default.createDirectory(
            atPath: path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        try removeStaleSocket(at: path, logger: logger)

        let maxRequestBytes = configuration.maxRequestBytes
        let readTimeout = TimeAmount.nanoseconds(
            Int64(configuration.socketReadTimeout.components.seconds) * 1_000_000_000
                + configuration.socketReadTimeout.components.attoseconds / 1_000_000_000)
        let connections = ConnectionTally<UInt32>()
        let descriptors = DescriptorLimit.current()
        let (maxConnections, maxPerUID) = configuration.connectionCaps(descriptorLimit: descriptors)
        if maxConnections < configuration.maxConnections {
            logger.notice(
                "serving fewer socket connections than configured: the descriptor limit leaves room for no more",
                metadata: ["socket.max-connections": "\(maxConnections)", "descriptors": "\(descriptors)"])
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(
                        ConnectionLimitHandler(counter: connections, limit: maxConnections, limitPerAccount: maxPerUID, logger: logger))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(
                        APIRequestHandler(
                            processor: processor, threadPool: threadPool, maxRequestBytes: maxRequestBytes, requestTimeout: readTimeout,
                            logger: logger))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw AgentError(.socketSetup, "cannot listen on the application socket", path: path, underlyingError: error)
        }
        applyOwnership(path: path, mode: configuration.socketMode, owner: configuration.socketOwner, group: configuration.socketGroup, logger: logger)
        logger.info("application socket listening", metadata: ["socket.path": "\(path)"])
        return channel
    }

    /// Replaces a socket file nobody listens on; refuses one that is live or is not a socket.
    static func removeStaleSocket(at path: String, logger: Logger) throws {
        switch SocketPathState.probe(path) {
        case .absent: return
        case .notASocket:
            throw AgentError(.socketInUse, "the socket path exists and is not a socket; remove it or choose another path", path: path)
        case .live:
            throw AgentError(.socketInUse, "another process is serving on the application socket (is an agent already running?)", path: path)
        case .stale:
            logger.notice("replacing a stale application socket left by a previous agent", metadata: ["socket.path": "\(path)"])
            unlink(path)
        }
    }

    static func applyOwnership(path: String, mode: Int, owner: String, group: String, logger: Logger) {
        if let uid = UInt32(owner) ?? PeerCredentialsResolver.userID(name: owner), chown(path, uid, gid_t(bitPattern: -1)) != 0 {
            logger.warning("cannot set the socket's owner", metadata: ["socket.owner": "\(owner)", "error": "\(String(cString: strerror(errno)))"])
        }
        if let gid = PeerCredentialsResolver.groupID(name: group) {
            if chown(path, uid_t(bitPattern: -1), gid) != 0 {
                logger.warning(
                    "cannot set the socket's group", metadata: ["socket.group": "\(group)", "error": "\(String(cString: strerror(errno)))"])
            }
        } else {
            logger.warning("socket group does not exist; the socket keeps the agent's group", metadata: ["socket.group": "\(group)"])
        }
        chmod(path, mode_t(mode))
    }
}
