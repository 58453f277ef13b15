// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import TrailCore

/// What one connection to the collector may hold, and for how long: without it, bare TCP
/// connections, half a ClientHello and idle TLS connections stayed open for good, and 1,100 of
/// them left no descriptor for `/healthz`, ingest or lookups.
///
/// - Caps: at most `maxConnections` at once (below the descriptor limit), and at most
///   `maxConnectionsPerAddress` from one client address (an IPv6 client: its /64, which one host
///   is usually given whole), so one flooding client cannot take every place. A connection over a
///   cap is closed at once, before any byte of it is read.
/// - Deadline: from the connection's opening (TLS handshake included), or from the end of the
///   last response owed, the next request must have arrived whole within `requestTimeout`. Bytes
///   trickling in do not move it; a request being answered is not bound by it, but an answer
///   the client leaves unread (the channel unwritable) for `requestTimeout` closes it.
struct ConnectionGuard: Sendable {
    let maxConnections: Int
    let maxConnectionsPerAddress: Int
    let requestTimeout: TimeAmount
    let logger: Logger
    let counts = ConnectionTally<String>()

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
        if counts.shouldWarn() {
            logger.warning(
                "closing connections over a limit",
                metadata: [
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
        let open = `guard`.counts.open()
        let address = Self.client(context.channel.remoteAddress)
        let fromAddress = `guard`.counts.assign(to: address)
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
        `guard`.counts.close(assignedTo: address)
        if !refused { context.fireChannelInactive() }
    }

    /// What the per-address cap counts: an IPv4 address (also when mapped into IPv6), or an IPv6
    /// address's /64, since a host given a /64 can connect from any of its addresses.
    static func client(_ address: SocketAddress?) -> String {
        guard case .v6(let v6) = address else { return address?.ipAddress ?? "unknown" }
        let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
            + "::/64"
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
