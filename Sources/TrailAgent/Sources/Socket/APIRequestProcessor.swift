// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import TrailCore

/// Answers one request on the application socket: validates, builds records, commits them as
/// source `socket`.
///
/// Called on the event loop for bodies up to 64 KiB and on the thread pool above
/// (``APIRequestHandler``); it never blocks: the reply to a valid `POST /v1/events` is sent from
/// the spool's committer thread after the group commit (the `202` promises the events are on disk).
struct APIRequestProcessor: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var contentType: String?
        var body: Data
    }

    struct Response: Sendable {
        var status: Int
        var body: JSONValue
        var headers: [(String, String)] = []
    }

    /// The socket's way into the spool (source `socket`, no checkpoint: a client retries).
    let context: SourceContext
    /// Replaced by a reload (new event-source claims).
    let builder: LiveValue<ApplicationRecordBuilder>
    let rateLimiter: ApplicationRateLimiter
    /// What `GET /v1/health` says: spool, shipper, every source.
    let health: AgentHealth
    let logger: Logger

    func handle(_ request: Request, peer: PeerCredentials, respond: @escaping @Sendable (Response) -> Void) {
        let parts = request.path.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? request.path
        switch (request.method, path) {
        case ("POST", "/v1/events"):
            let query = parts.count > 1 ? parts[1].split(separator: "&") : []
            postEvents(request, partial: query.contains("partial=true") || query.contains("partial=1"), peer: peer, respond: respond)
        case ("GET", "/v1/health"):
            // 503 until every source has taken its place (so `curl --fail` loops wait for it) and
            // while the spool refuses for being full.
            let report = health.report()
            respond(Response(status: report.httpStatus, body: report.body))
        case (_, "/v1/events"), (_, "/v1/health"):
            respond(Self.error(405, EventValidationError(.invalidRequest, "\(request.method) is not allowed on \(path)")))
        default:
            respond(Self.error(404, EventValidationError(.invalidRequest, "no such endpoint: \(path); use POST /v1/events")))
        }
    }

    /// The HTTP status of a refused event or request.
    static func status(of error: EventValidationError) -> Int {
        switch error.code {
        case .reservedEventSource, .eventSourceClaimed: 403
        case .eventTooLarge: 413
        default: 400
        }
    }

    /// Validates and spools the events of one request. Without `partial`, one bad event refuses
    /// the whole request; with it, the good events are stored and the reply lists the bad ones:
    /// `{"eventIDs": [id or null …], "errors": [{code, message, index, field} …]}`.
    func postEvents(_ request: Request, partial: Bool, peer: PeerCredentials, respond: @escaping @Sendable (Response) -> Void) {
        let builder = self.builder.current
        var eventIDs: [JSONValue] = []
        var errors: [EventValidationError] = []
        // Records are written straight into the batch's frames.
        var batch = SourceBatch()
        do {
            let items = try ApplicationRequest.items(body: request.body, contentType: request.contentType)
            if let wait = rateLimiter.admit(uid: peer.uid, events: items.count) {
                let seconds = max(1, Int(wait.rounded(.up)))
                logger.info(
                    "rate-limited an application", metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)", "events": "\(items.count)"])
                respond(
                    Response(
                        status: 429,
                        body: EventValidationError(
                            .rateLimited, "uid \(peer.uid) is sending events faster than the agent's rate limit; retry in \(seconds) s"
                        ).jsonValue,
                        headers: [("Retry-After", String(seconds))]))
                return
            }
            let requestContext = ApplicationRecordBuilder.RequestContext(peer: peer, fallbackRequestID: RandomUUID.make(), now: Date())
            batch.reserveCapacity(min(request.body.count, 1 << 20) + items.count * 1024)
            for (index, item) in items.enumerated() {
                do {
                    let event = try ApplicationEvent(validating: item.get(), index: index)
                    let accepted = try builder.accept(event, index: index, context: requestContext)
                    batch.add { builder.writeCanonicalJSON(for: event, accepted, context: requestContext, to: &$0) }
                    eventIDs.append(.string(accepted.eventID))
                } catch let error as EventValidationError where partial {
                    errors.append(error)
                    eventIDs.append(.null)
                }
            }
        } catch let error as EventValidationError {
            refused([error], peer: peer)
            respond(Self.error(Self.status(of: error), error))
            return
        } catch {
            respond(Self.error(500, EventValidationError(.invalidRequest, "internal error: \(error)")))
            return
        }
        let body: JSONValue =
            partial
            ? ["eventIDs": .array(eventIDs), "errors": .array(errors.map { $0.jsonValue["error"] ?? .null })] : ["eventIDs": .array(eventIDs)]
        guard !batch.isEmpty else {
            // Partial, and nothing was good: the status of the first refusal, the same body shape.
            refused(errors, peer: peer)
            respond(Response(status: errors.first.map(Self.status(of:)) ?? 400, body: body))
            return
        }
        if !errors.isEmpty { refused(errors, peer: peer) }
        context.offer(batch) { result in
            switch result {
            case .success:
                respond(Response(status: 202, body: body))
            case .failure(let error as RecordSinkFull):
                respond(
                    Response(
                        status: 503, body: EventValidationError(.init(rawValue: "SpoolFull"), "\(error)").jsonValue,
                        headers: [("Retry-After", "1")]))
            case .failure(let error):
                respond(
                    Response(
                        status: 503,
                        body: EventValidationError(.init(rawValue: "SpoolUnavailable"), "the agent cannot store events right now: \(error)")
                            .jsonValue,
                        headers: [("Retry-After", "1")]))
            }
        }
    }

    private func refused(_ errors: [EventValidationError], peer: PeerCredentials) {
        guard let first = errors.first else { return }
        logger.info(
            "refused application events",
            metadata: [
                "peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)", "events": "\(errors.count)", "error.code": "\(first.code)",
                "error.message": "\(first.message)",
            ])
    }

    static func error(_ status: Int, _ error: EventValidationError) -> Response {
        Response(status: status, body: error.jsonValue)
    }
}
