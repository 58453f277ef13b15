// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import TrailCore

/// Answers one request on the application socket: validates, builds records, spools them.
///
/// Runs on a thread-pool thread: spooling blocks on `fsync`, by design, because `202` promises
/// the events are on disk.
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

    func handle(_ request: Request, peer: PeerCredentials) -> Response {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        switch (request.method, path) {
        case ("POST", "/v1/events"):
            return postEvents(request, peer: peer)
        case ("GET", "/v1/health"):
            return Response(status: 200, body: ["status": "ok", "queuedBatches": .integer(Int64(spool.queuedBatchCount()))])
        case (_, "/v1/events"), (_, "/v1/health"):
            return Self.error(405, EventValidationError(.invalidRequest, "\(request.method) is not allowed on \(path)"))
        default:
            return Self.error(404, EventValidationError(.invalidRequest, "no such endpoint: \(path); use POST /v1/events"))
        }
    }

    func postEvents(_ request: Request, peer: PeerCredentials) -> Response {
        let records: [CloudTrailRecord]
        do {
            let values = try ApplicationRequest.events(body: request.body, contentType: request.contentType)
            let fallbackRequestID = UUID().uuidString.lowercased()
            let now = Date()
            records = try values.enumerated().map { index, value in
                let event = try ApplicationEvent(validating: value, index: index)
                return try builder.record(for: event, index: index, peer: peer, fallbackRequestID: fallbackRequestID, now: now)
            }
        } catch let error as EventValidationError {
            let status = error.code == .reservedEventSource ? 403 : (error.code == .eventTooLarge ? 413 : 400)
            logger.info(
                "refused an application request",
                metadata: ["peer.uid": "\(peer.uid)", "peer.pid": "\(peer.pid)", "error.code": "\(error.code)", "error.message": "\(error.message)"])
            return Self.error(status, error)
        } catch {
            return Self.error(500, EventValidationError(.invalidRequest, "internal error: \(error)"))
        }
        do {
            try spool.append(records.map { try $0.canonicalJSON() })
        } catch {
            logger.error("cannot spool application events", metadata: ["error": "\(error)"])
            return Response(
                status: 503,
                body: EventValidationError(.init(rawValue: "SpoolUnavailable"), "the agent cannot store events right now: \(error)").jsonValue,
                headers: [("Retry-After", "1")])
        }
        return Response(status: 202, body: ["eventIDs": .array(records.map { .string($0.eventID) })])
    }

    static func error(_ status: Int, _ error: EventValidationError) -> Response {
        Response(status: status, body: error.jsonValue)
    }
}
