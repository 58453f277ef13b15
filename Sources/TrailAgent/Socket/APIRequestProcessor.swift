// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import TrailCore

/// Answers one request on the application socket: validates, builds records, spools them.
///
/// Validation runs on a thread-pool thread; the reply to a valid `POST /v1/events` waits for the
/// spool's group commit (the `202` promises the events are on disk).
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

    let spool: Spool
    let builder: ApplicationRecordBuilder
    let logger: Logger

    func handle(_ request: Request, peer: PeerCredentials, respond: @escaping @Sendable (Response) -> Void) {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        switch (request.method, path) {
        case ("POST", "/v1/events"):
            postEvents(request, peer: peer, respond: respond)
        case ("GET", "/v1/health"):
            respond(Response(status: 200, body: ["status": "ok", "pendingRecords": .integer(Int64(spool.pendingRecords))]))
        case (_, "/v1/events"), (_, "/v1/health"):
            respond(Self.error(405, EventValidationError(.invalidRequest, "\(request.method) is not allowed on \(path)")))
        default:
            respond(Self.error(404, EventValidationError(.invalidRequest, "no such endpoint: \(path); use POST /v1/events")))
        }
    }

    func postEvents(_ request: Request, peer: PeerCredentials, respond: @escaping @Sendable (Response) -> Void) {
        let records: [CloudTrailRecord]
        let encoded: [Data]
        do {
            let values = try ApplicationRequest.events(body: request.body, contentType: request.contentType)
            let fallbackRequestID = RandomUUID.make()
            let now = Date()
            let events = try values.enumerated().map { index, value in try ApplicationEvent(validating: value, index: index) }
            records = try builder.records(for: events, peer: peer, fallbackRequestID: fallbackRequestID, now: now)
            encoded = try records.map { try $0.canonicalJSON() }
        } catch let error as EventValidationError {
            let status = error.code == .reservedEventSource ? 403 : (error.code == .eventTooLarge ? 413 : 400)
            logger.info(
                "refused an application request",
                metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)", "error.code": "\(error.code)", "error.message": "\(error.message)"])
            respond(Self.error(status, error))
            return
        } catch {
            respond(Self.error(500, EventValidationError(.invalidRequest, "internal error: \(error)")))
            return
        }
        let eventIDs = records.map { JSONValue.string($0.eventID) }
        let logger = self.logger
        spool.append(encoded) { result in
            switch result {
            case .success:
                respond(Response(status: 202, body: ["eventIDs": .array(eventIDs)]))
            case .failure(let error as Spool.Full):
                respond(Response(
                    status: 503, body: EventValidationError(.init(rawValue: "SpoolFull"), "\(error)").jsonValue,
                    headers: [("Retry-After", "1")]))
            case .failure(let error):
                logger.error("cannot spool application events", metadata: ["error": "\(error)"])
                respond(Response(
                    status: 503,
                    body: EventValidationError(.init(rawValue: "SpoolUnavailable"), "the agent cannot store events right now: \(error)").jsonValue,
                    headers: [("Retry-After", "1")]))
            }
        }
    }

    static func error(_ status: Int, _ error: EventValidationError) -> Response {
        Response(status: status, body: error.jsonValue)
    }
}
