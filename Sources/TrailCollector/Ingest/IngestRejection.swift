// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import TrailCore

/// Why `POST /v1/records` was refused: an HTTP status, a code and a message the agent logs,
/// rendered as `{"error":{"code","message"}[,"refused":[…]]}` wherever it is thrown.
public struct IngestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var statusCode: Int
    public var code: String
    public var message: String
    /// The records of a batch refused one by one (`400 InvalidRecords`): the agent sets these
    /// aside and sends the rest again, so one bad record never takes its neighbours with it.
    public var refused: [RefusedRecord]
    /// Seconds for `Retry-After` (a refusal that passes: overload, a store that cannot commit).
    public var retryAfter: Int?

    /// One refused record of a batch: its position in `Records`, its event ID if it has one, why.
    public struct RefusedRecord: Sendable, Hashable {
        public var index: Int
        public var eventID: String?
        /// `InvalidRecord` or `RecordTooLarge`.
        public var code: String
        public var message: String
    }

    public init(status: Int, code: String, message: String, refused: [RefusedRecord] = [], retryAfter: Int? = nil) {
        self.statusCode = status
        self.code = code
        self.message = message
        self.refused = refused
        self.retryAfter = retryAfter
    }

    public var description: String { "\(statusCode) \(code): \(message)" }

    static func badRequest(_ message: String) -> Self { .init(status: 400, code: "InvalidRecords", message: message) }

    /// The body the agent reads.
    var body: JSONValue {
        var members: [String: JSONValue] = ["error": ["code": .string(code), "message": .string(message)]]
        if !refused.isEmpty {
            members["refused"] = .array(
                refused.map { refused in
                    var members: [String: JSONValue] = [
                        "index": .integer(Int64(refused.index)), "code": .string(refused.code), "message": .string(refused.message),
                    ]
                    if let eventID = refused.eventID { members["eventID"] = .string(eventID) }
                    return .object(members)
                })
        }
        return .object(members)
    }
}

extension IngestRejection: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return .json(status: status, Data(body.serialized()), headers: headers)
    }
}
