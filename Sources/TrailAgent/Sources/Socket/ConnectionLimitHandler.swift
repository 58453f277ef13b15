// SPDX-License-Identifier: Apache-2.0

import Logging
import NIOCore
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Caps the connections the application socket serves at once, in all and per account: one
/// over a cap is answered `503` with `Retry-After` and closed before any of its request is read.
/// A client that opens connections without end cannot exhaust the agent's descriptors (the
/// total cap stays below `RLIMIT_NOFILE`, see ``AgentConfiguration/connectionCaps(descriptorLimit:)``),
/// and one account cannot take every place from the others (root is not capped per account: a
/// root process owns the host anyway, and the host's own services run as root).
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counter: ConnectionTally<UInt32>
    private let limit: Int
    private let limitPerAccount: Int
    private let logger: Logger
    private var refused = false
    /// The account this connection counts against, once known.
    private var account: UInt32?

    init(counter: ConnectionTally<UInt32>, limit: Int, limitPerAccount: Int, logger: Logger) {
        self.counter = counter
        self.limit = limit
        self.limitPerAccount = limitPerAccount
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        guard counter.open() <= limit else {
            refuse(context: context, "the agent serves \(limit) connections at once; retry shortly")
            return
        }
        // SO_PEERCRED is read on the event loop, so the future is complete before any byte of
        // the request is handed on.
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.fireChannelActive()
            return
        }
        let credentials: EventLoopFuture<KernelPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        credentials.whenComplete { result in
            let (handler, context) = loopBound.value
            guard case .success(let peer) = result, peer.uid != 0 else {
                context.fireChannelActive()
                return
            }
            handler.account = peer.uid
            guard handler.counter.assign(to: peer.uid) <= handler.limitPerAccount else {
                handler.refuse(
                    context: context, "uid \(peer.uid) has \(handler.limitPerAccount) connections open already; close some, or retry shortly")
                return
            }
            context.fireChannelActive()
        }
    }

    private func refuse(context: ChannelHandlerContext, _ message: String) {
        refused = true
        if counter.shouldWarn() {
            logger.warning(
                "refusing application connections over a limit",
                metadata: ["socket.max-connections": "\(limit)", "socket.max-connections-per-uid": "\(limitPerAccount)", "reason": "\(message)"])
        }
        var body = EventValidationError(.init(rawValue: "TooManyConnections"), message).jsonValue.serialized()
        body.append(UInt8(ascii: "\n"))
        let head =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }  // a refused connection's request is never read
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        counter.close(assignedTo: account)
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionLimitHandler: Sendable {}
