// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// One connection on the application socket: reads HTTP/1.1 requests, enforces the size limit
/// and the request deadline, and hands complete requests to the ``APIRequestProcessor``.
///
/// The deadline bounds the whole request: from the connection's opening, or from the reply to
/// the previous request, the next must be complete within `requestTimeout`. An idle timer would
/// be reset by every byte, and a client sending one byte a second would hold the connection for
/// ever; this one is not. A request still arriving at the deadline is answered `408`; a
/// connection with no request under way is closed.
///
/// Identity comes from the kernel: `SO_PEERCRED` is read once when the connection opens.
final class APIRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// Over the limit: the rest of the body is ignored and the connection closes after the reply.
        case discarding
        case processing
    }

    /// Requests up to this size are validated on the event loop.
    static let inlineRequestBytes = 64 * 1024

    private let processor: APIRequestProcessor
    private let threadPool: NIOThreadPool
    private let maxRequestBytes: Int
    private let requestTimeout: TimeAmount
    private let logger: Logger
    private var state = State.idle
    /// When the request being waited for must be complete.
    private var deadline: Scheduled<Void>?
    private var peer: EventLoopFuture<PeerCredentials>?
    /// `peer`'s value once resolved: later requests on the connection skip the future.
    private var credentials: PeerCredentials?

    init(processor: APIRequestProcessor, threadPool: NIOThreadPool, maxRequestBytes: Int, requestTimeout: TimeAmount, logger: Logger) {
        self.processor = processor
        self.threadPool = threadPool
        self.maxRequestBytes = maxRequestBytes
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = Self.peerCredentials(of: context.channel, threadPool: threadPool)
        armDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    /// Starts the clock for the next request.
    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) {
            let (handler, context) = loopBound.value
            handler.deadlinePassed(context: context)
        }
    }

    private func deadlinePassed(context: ChannelHandlerContext) {
        deadline = nil
        switch state {
        case .receiving(let head, _):
            state = .discarding
            logger.info("closing an application connection whose request did not arrive in time")
            let error = EventValidationError(
                .init(rawValue: "RequestTimeout"), "the request was not completed in time; send the whole request at once")
            reply(context: context, head: head, response: APIRequestProcessor.error(408, error), close: true)
        case .idle, .discarding:
            // Nothing under way, headers still trickling in (the HTTP decoder holds them), or the
            // rest of a body already answered 413.
            context.close(promise: nil)
        case .processing:
            break  // the reply is on its way; the clock starts again after it
        }
    }

    /// SO_PEERCRED (unix(7)): the pid, uid and gid of the process that connected.
    static func peerCredentials(of channel: any Channel, threadPool: NIOThreadPool) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(AgentError(.socketSetup, "the channel cannot report peer credentials"))
        }
        let credentials: EventLoopFuture<KernelPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMap { raw in
            // Name and executable need file reads: off the event loop.
            threadPool.runIfActive(eventLoop: channel.eventLoop) {
                PeerCredentialsResolver.resolve(pid: raw.pid, uid: raw.uid, gid: raw.gid)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxRequestBytes {
                // Answer now; read and drop the body so the client sees the reply rather than a reset.
                state = .discarding
                reply(context: context, head: head, response: tooLarge(length), close: true, closeNow: false)
                return
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .receiving(let head, var body)):
            guard body.readableBytes + chunk.readableBytes <= maxRequestBytes else {
                state = .discarding
                reply(context: context, head: head, response: tooLarge(nil), close: true, closeNow: false)
                return
            }
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.end, .receiving(let head, let body)):
            state = .processing
            process(context: context, head: head, body: body)
        case (.end, .discarding):
            context.close(promise: nil)
        case (_, .discarding), (_, .processing):
            break  // the reply is decided; NIO's pipelining handler holds any next request back
        default:
            state = .discarding
            let error = EventValidationError(.invalidRequest, "malformed HTTP request")
            reply(context: context, head: nil, response: APIRequestProcessor.error(400, error), close: true)
        }
    }

    private func tooLarge(_ length: Int?) -> APIRequestProcessor.Response {
        let size = length.map { "\($0) bytes" } ?? "larger than allowed"
        return APIRequestProcessor.error(
            413, EventValidationError(.init(rawValue: "RequestTooLarge"), "the request body is \(size); the limit is \(maxRequestBytes) bytes"))
    }

    private func process(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let request = APIRequestProcessor.Request(
            method: head.method.rawValue,
            path: head.uri,
            contentType: head.headers.first(name: "content-type"),
            body: Data(body.readableBytesView)
        )
        let inline = body.readableBytes <= Self.inlineRequestBytes
        if let credentials {
            start(request, inline: inline, peer: credentials, context: context, head: head)
            return
        }
        guard let peer else {
            // channelActive sets it before any read; answer rather than leave the client waiting.
            failed(context: context, head: head, error: AgentError(.socketSetup, "the connection has no peer credentials"))
            return
        }
        // The first request on a connection may arrive before its peer is resolved.
        peer.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let credentials):
                self.credentials = credentials
                self.start(request, inline: inline, peer: credentials, context: context, head: head)
            case .failure(let error):
                self.failed(context: context, head: head, error: error)
            }
        }
    }

    /// Hands `request` to the processor. A small request is validated right here: the work takes
    /// microseconds, less than a hop to the thread pool and back. Large ones go to the pool so the
    /// event loop stays responsive. Neither blocks: the spool replies through its commit's
    /// completion, which comes back to this event loop as one task (no promise or future a request).
    private func start(
        _ request: APIRequestProcessor.Request, inline: Bool, peer: PeerCredentials, context: ChannelHandlerContext, head: HTTPRequestHead
    ) {
        let eventLoop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
        let boundSelf = NIOLoopBound(self, eventLoop: eventLoop)
        let respond: @Sendable (APIRequestProcessor.Response) -> Void = { response in
            if eventLoop.inEventLoop {
                boundSelf.value.finish(context: boundContext.value, head: head, response: response)
            } else {
                eventLoop.execute { boundSelf.value.finish(context: boundContext.value, head: head, response: response) }
            }
        }
        let processor = self.processor
        if inline {
            processor.handle(request, peer: peer, respond: respond)
            return
        }
        threadPool.submit { state in
            guard case .active = state else {
                eventLoop.execute {
                    boundSelf.value.failed(context: boundContext.value, head: head, error: AgentError(.socketSetup, "the agent is stopping"))
                }
                return
            }
            processor.handle(request, peer: peer, respond: respond)
        }
    }

    private func finish(context: ChannelHandlerContext, head: HTTPRequestHead, response: APIRequestProcessor.Response) {
        state = .idle
        reply(context: context, head: head, response: response, close: !head.isKeepAlive)
        if head.isKeepAlive { armDeadline(context: context) }
    }

    private func failed(context: ChannelHandlerContext, head: HTTPRequestHead, error: any Error) {
        logger.error("application request failed", metadata: ["error": "\(error)"])
        reply(
            context: context, head: head,
            response: APIRequestProcessor.error(500, EventValidationError(.invalidRequest, "internal error: \(error)")),
            close: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // HTTP parse errors were answered with 400 by NIO's HTTPServerProtocolErrorHandler.
        context.close(promise: nil)
    }

    /// Writes `response`; with `close`, says `Connection: close` and closes once written, unless
    /// `closeNow` is false (the caller closes when the request's end arrives).
    private func reply(
        context: ChannelHandlerContext, head: HTTPRequestHead?, response: APIRequestProcessor.Response, close: Bool,
        closeNow: Bool = true
    ) {
        guard context.channel.isActive else { return }
        // The canonical writer, not JSONEncoder: this runs once per request on the event loop.
        var body = response.body.serialized()
        body.append(UInt8(ascii: "\n"))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if close { headers.add(name: "Connection", value: "close") }
        let version = head?.version ?? .http1_1
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        guard close && closeNow else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}

@available(*, unavailable)
extension APIRequestHandler: Sendable {}

/// `struct ucred` (socket(7)), which Swift's Glibc module does not export without `_GNU_SOURCE`:
/// the same layout, three 32-bit fields.
struct KernelPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
