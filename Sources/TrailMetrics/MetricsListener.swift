// SPDX-License-Identifier: Apache-2.0

import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import TrailSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// A daemon's plain-HTTP listener for operators' tools: `GET /metrics` (Prometheus' text format)
/// and the daemon's health endpoints, on a loopback port or a Unix socket (`--metrics-listen`).
///
/// It serves GET only, answers each request from memory (no I/O behind it but what the probes
/// read), and closes a connection idle for 30 s; it is not the daemon's work port and holds
/// nothing an attacker could fill. A listener that cannot bind is logged and left out: the daemon
/// goes on auditing without it.
public final class MetricsListener: Service {
    /// A health endpoint's answer: the HTTP status and a JSON body.
    public struct Answer: Sendable {
        public var status: Int
        public var json: [UInt8]

        public init(status: Int, json: [UInt8]) {
            self.status = status
            self.json = json
        }
    }

    private let address: ListenAddress
    private let registry: MetricsRegistry
    private let endpoints: [String: @Sendable () async -> Answer]
    private let onListening: @Sendable (String) async -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - endpoints: Paths besides `/metrics` (`/healthz`, `/readyz`, `/v1/health`) and their answers.
    ///   - onListening: Called with the bound address (`127.0.0.1:41234`, `unix:/run/x.sock`).
    public init(
        address: ListenAddress, registry: MetricsRegistry, endpoints: [String: @Sendable () async -> Answer],
        onListening: @escaping @Sendable (String) async -> Void = { _ in }, logger: Logger
    ) {
        self.address = address
        self.registry = registry
        self.endpoints = endpoints
        self.onListening = onListening
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let endpoints = self.endpoints
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(allTimeout: .seconds(30)))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(MetricsRequestHandler(registry: registry, endpoints: endpoints))
                }
            }
        let channel: any Channel
        let shown: String
        do {
            switch address {
            case .tcp(let host, let port):
                channel = try await bootstrap.bind(host: host, port: port).get()
                let bound = channel.localAddress?.port ?? port
                shown = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
            case .unix(let path):
                try Self.removeStaleSocket(path)
                channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
                shown = "unix:\(path)"
            }
        } catch {
            // Metrics are the operator's view, not the daemon's work: auditing goes on without them.
            logger.error(
                "metrics and health are not served: cannot listen", metadata: ["metrics.listen": "\(address)", "error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        logger.info("metrics listening", metadata: ["metrics.listen": "\(shown)"])
        await onListening(shown)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        if case .unix(let path) = address { unlink(path) }
    }
}

extension MetricsListener {
    /// Replaces a socket file nobody answers on (left by a killed daemon); refuses a live one or a
    /// path that is not a socket.
    static func removeStaleSocket(_ path: String) throws {
        switch SocketPathState.probe(path) {
        case .absent: return
        case .notASocket: throw MetricsListenerError.inUse(path, "it exists and is not a socket")
        case .live: throw MetricsListenerError.inUse(path, "another process answers on it")
        case .stale: unlink(path)
        }
    }
}

/// Where a ``MetricsListener`` listens: `HOST:PORT` (`[::1]:9479`; port 0 picks one) or `unix:PATH`.
public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// `nil` when `text` is neither form.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), path.utf8.count < 108 else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

/// A Unix socket path the listener will not take.
public struct MetricsListenerError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    static func inUse(_ path: String, _ reason: String) -> MetricsListenerError { MetricsListenerError(path: path, reason: reason) }

    public var description: String { "\(path): \(reason)" }
}

/// Answers one GET at a time on a connection.
final class MetricsRequestHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: MetricsRegistry
    let endpoints: [String: @Sendable () async -> MetricsListener.Answer]

    init(registry: MetricsRegistry, endpoints: [String: @Sendable () async -> MetricsListener.Answer]) {
        self.registry = registry
        self.endpoints = endpoints
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let keepAlive = head.isKeepAlive
        let loop = context.eventLoop
        let bound = NIOLoopBound((context, self), eventLoop: loop)
        guard head.method == .GET || head.method == .HEAD else {
            respond(context, status: .methodNotAllowed, type: "text/plain", body: Array("only GET\n".utf8), keepAlive: keepAlive)
            return
        }
        if path == "/metrics" {
            let registry = self.registry
            let promise = loop.makePromise(of: [UInt8].self)
            promise.completeWithTask { await registry.exposition() }
            promise.futureResult.whenSuccess { body in
                let (context, handler) = bound.value
                handler.respond(context, status: .ok, type: MetricsRegistry.contentType, body: head.method == .HEAD ? [] : body, keepAlive: keepAlive)
            }
            return
        }
        guard let endpoint = endpoints[path] else {
            let known = (["/metrics"] + endpoints.keys.sorted()).joined(separator: ", ")
            respond(context, status: .notFound, type: "text/plain", body: Array("no such path; try \(known)\n".utf8), keepAlive: keepAlive)
            return
        }
        let promise = loop.makePromise(of: MetricsListener.Answer.self)
        promise.completeWithTask { await endpoint() }
        promise.futureResult.whenSuccess { answer in
            let (context, handler) = bound.value
            handler.respond(
                context, status: HTTPResponseStatus(statusCode: answer.status), type: "application/json", body: answer.json, keepAlive: keepAlive)
        }
    }

    func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, body: [UInt8], keepAlive: Bool) {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", "\(body.count)")])
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }
}
