// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// HostTrail's response operations beside CloudTrail's, for readers of the whole fleet only:
///
/// - `ListResponses` `{"Active": true, "MaxResults": n}`: requests to hosts, newest first, with
///   where each stands (queued, delivered, performed until `ExpiresAt`, refused, failed, expired,
///   reverted, cancelled); `Active`: only those queued, delivered or in force. And the hosts that
///   take requests with the responses each defines.
/// - `RevertResponse` `{"Id": "rsp-…"}`: undoes a request, or a whole group (every host a rule's
///   action asked), wherever it is in force; one not yet delivered is cancelled.
extension CloudTrailAPI {
    func responsesOperation(_ operation: String, body: Data, scope: LookupScope) async throws -> Data {
        guard scope == .fleet else {
            throw CloudTrailAPIError(type: "AccessDeniedException", message: "\(operation) needs a reader of the whole fleet")
        }
        guard let responses else { throw CloudTrailAPIError(type: "UnknownOperationException", message: "this collector sends no responses") }
        let request = (try? JSONValue.parse(Array(body.isEmpty ? Data("{}".utf8) : body))) ?? .null
        guard request.objectValue != nil else {
            throw CloudTrailAPIError(type: "SerializationException", message: "the request is not a JSON object")
        }
        let result: JSONValue
        switch operation {
        case "ListResponses":
            let limit = Int(request["MaxResults"]?.integerValue ?? 100)
            guard (1...1000).contains(limit) else { throw CloudTrailAPIError(type: "InvalidParameterException", message: "MaxResults is 1 to 1000") }
            let requests = try await responses.ledger.requests(active: request["Active"] == .bool(true), limit: limit)
            let hosts = try await responses.ledger.hosts()
            result = [
                "Requests": .array(requests.map(Self.json)),
                "Hosts": .array(
                    hosts.map {
                        [
                            "Host": .string($0.host), "Responses": .array($0.responses.map(JSONValue.string)),
                            "LastSeen": .string(TrailTime.formatEpochSeconds($0.lastSeen)),
                        ]
                    }),
            ]
        default:
            guard let id = request["Id"]?.stringValue, !id.isEmpty, id.utf8.count <= 512 else {
                throw CloudTrailAPIError(type: "InvalidParameterException", message: "Id is a request's or a response group's ID")
            }
            guard let reverted = try await responses.revert(id: id) else {
                throw CloudTrailAPIError(type: "ResourceNotFoundException", message: "there is no response request or group \(id)")
            }
            result = [
                "Id": .string(id), "Reverts": .array(reverted.queued.map { .string($0.request.id) }),
                "Cancelled": .integer(Int64(reverted.cancelled)),
            ]
        }
        return Data(result.serialized())
    }

    static func json(_ queued: QueuedResponse) -> JSONValue {
        [
            "Id": .string(queued.request.id), "Group": .string(queued.group), "Host": .string(queued.host),
            "Response": .string(queued.request.response), "Arguments": .object(queued.request.arguments.mapValues(JSONValue.string)),
            "Rule": queued.request.rule.map(JSONValue.string) ?? .null, "Reverts": queued.request.reverts.map(JSONValue.string) ?? .null,
            "State": .string(queued.state.rawValue), "Deliveries": .integer(Int64(queued.deliveries)),
            "ErrorCode": queued.errorCode.map(JSONValue.string) ?? .null, "Message": queued.message.map(JSONValue.string) ?? .null,
            "ExpiresAt": queued.expiresAt.map { .string(TrailTime.formatEpochSeconds($0)) } ?? .null,
            "CreatedAt": .string(TrailTime.formatEpochSeconds(queued.createdAt)),
            "UpdatedAt": .string(TrailTime.formatEpochSeconds(queued.updatedAt)),
        ]
    }
}
