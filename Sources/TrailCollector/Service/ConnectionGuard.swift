// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import Synchronization

/// What one connection to the collector may hold, and for how long: without it, bare TCP
/// connections, half a ClientHello and idle TLS connections stayed open for good, and 1,100 of
/// them left no descriptor for `/healthz`, ingest or lookups.
///
/// - Caps: at most `maxConnections` at once (below the descriptor limit), and at most
///   `maxConnectionsPerAddress` from one client address, so one flooding address cannot take every
///   place. A connection over a cap is closed at once, before any byte of it is read.
/// - Deadline: from the connection's opening (TLS handshake included), or from the end of the
///   last response owed, the next request must have arrived whole within `requestTimeout`. Bytes
///   trickling in do not move it; a request being answered is not bound by it, but an answer
///   the client leaves unread (the channel unwritable) for `requestTimeout` closes it.
struct ConnectionGuard: Sendable {
    final class Counts: Sendable {
        let open = Atomic<Int>(0)
        let byAddress = Mutex<[String: Int]>([:])
        /// Seconds (monotonic) of the last warning, so a flood logs once every 10 s.
        let lastWarning = Atomic<Int>(-10)
        init() {}
    }

    let maxConnections: Int
    let maxConnectionsPerAddress: Int
    let requestTimeout: TimeAmount
    let logger: Logger
    let counts = Counts()

    /// The TLS HTTP/1.1 server with the guard's handlers: the caps first in every connection's
    /// pipeline (before TLS), the deadline after the HTTP decoder.
    func server(tlsConfiguration: TLSConfiguration) throws -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            let http = HTTP1Channel(
                responder: responder,
                configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)]))
            return GuardedChildChannel(base: try TLSChannel(http, tlsConfiguration: tlsConfiguration), guard: self)
        }
    }

    func warn(_ message: String) {
        let now = Int(Date().timeIntervalSince1970)
        let last = counts.lastWarning.load(ordering: .relaxed)
        if now - last >= 10, counts.lastWarning.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
            logger.warning(
                "closing connections over a limit", metadata: [
                    "reason": "\(message)", "connections.max": "\(maxConnections)", "connections.max-per-address": "\(maxConnectionsPerAddress)",
                ])
        }
    }
}

/// A server child channel with ``ConnectionGuard``'s caps in front of its own handlers.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let `guard`: ConnectionGuard

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionCapHandler(guard: `guard`), position: .first)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension GuardedChildChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Counts a connection against the caps; closes it, unread, when it is over one.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let `guard`: ConnectionGuard
    private var address: String?
    private var refused = false

    init(guard: ConnectionGuard) {
        self.guard = `guard`
    }

    func channelActive(context: ChannelHandlerContext) {
        let open = `guard`.counts.open.add(1, ordering: .relaxed).newValue
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let fromAddress = `guard`.counts.byAddress.withLock { counts -> Int in
            counts[address, default: 0] += 1
            return counts[address]!
        }
        self.address = address
        if open > `guard`.maxConnections || fromAddress > `guard`.maxConnectionsPerAddress {
            refused = true
            `guard`.warn(open > `guard`.maxConnections ? "\(open) connections open" : "\(fromAddress) connections from \(address)")
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        `guard`.counts.open.subtract(1, ordering: .relaxed)
        if let address {
            `guard`.counts.byAddress.withLock { counts in
                counts[address, default: 1] -= 1
                if counts[address] == 0 { counts[address] = nil }
            }
        }
        if !refused { context.fireChannelInactive() }
    }
}

@available(*, unavailable)
extension ConnectionCapHandler: Sendable {}

/// Closes a connection whose next request has not arrived whole within the timeout of its
/// opening or of the end of the previous response, or whose answer has waited that long for the
/// client to read (see ``ConnectionGuard``).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// Waiting for a request to arrive whole.
    private var deadline: Scheduled<Void>?
    /// Waiting for the client to read: the channel has been unwritable since it was armed.
    private var stall: Scheduled<Void>?
    /// Requests read whole and not yet answered (pipelined ones included).
    private var unanswered = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = close(context: context, in: timeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    private func close(context: ChannelHandlerContext, in timeout: TimeAmount) -> Scheduled<Void> {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }

    private func cancelTimers() {
        deadline?.cancel()
        deadline = nil
        stall?.cancel()
        stall = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            // Whole: the answer may take as long as it takes (a large lookup, a slow disk).
            unanswered += 1
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            // The next request's time starts once nothing is being answered.
            if unanswered == 0 {
                deadline?.cancel()
                deadline = close(context: context, in: timeout)
            }
        }
        context.write(data, promise: promise)
    }

    /// A client that sends requests and never reads the answers would otherwise hold the
    /// connection for good: the answer waits on it, and no request deadline runs meanwhile.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stall?.cancel()
            stall = nil
        } else if stall == nil {
            stall = close(context: context, in: timeout)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
