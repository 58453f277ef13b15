// SPDX-License-Identifier: Apache-2.0

import Logging
import NIOCore
import Synchronization
import TrailCore

/// Caps the connections the application socket serves at once: one over the cap is answered
/// `503` with `Retry-After` and closed, before any of its request is read, so a client that opens
/// connections without end cannot exhaust the agent's descriptors.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The connections open now, shared by every connection's handler.
    final class Counter: Sendable {
        let open = Atomic<Int>(0)
        /// Seconds (monotonic) of the last warning, so a flood logs once every 10 s.
        let lastWarning = Atomic<Int>(-10)
        init() {}
    }

    private let counter: Counter
    private let limit: Int
    private let logger: Logger
    private var refused = false

    init(counter: Counter, limit: Int, logger: Logger) {
        self.counter = counter
        self.limit = limit
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let open = counter.open.add(1, ordering: .relaxed).newValue
        guard open > limit else {
            context.fireChannelActive()
            return
        }
        refused = true
        let now = Int(ContinuousClock.now.secondsSinceReference)
        let last = counter.lastWarning.load(ordering: .relaxed)
        if now - last >= 10, counter.lastWarning.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
            logger.warning("refusing application connections over the limit", metadata: ["socket.max-connections": "\(limit)"])
        }
        var body = EventValidationError(
            .init(rawValue: "TooManyConnections"), "the agent serves \(limit) connections at once; retry shortly"
        ).jsonValue.serialized()
        body.append(UInt8(ascii: "\n"))
        let head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
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
        counter.open.subtract(1, ordering: .relaxed)
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionLimitHandler: Sendable {}
