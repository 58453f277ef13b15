// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// The host's records of its responses (`eventSource` `responses.hosttrail`): each one performed,
/// refused, failed and ended, with the request, its rule and the events behind it, so the signed
/// trail shows who was blocked or locked, why, by which rule, and when it ended. (The collector
/// writes `RequestResponse` in the same source; a host cannot.)
public struct ResponseRecordBuilder: Sendable {
    public static let eventSource = "responses.hosttrail"
    /// The collector's record of a request it sent; no host may write it.
    public static let requestEventName = "RequestResponse"

    public let agent: AgentRecordBuilder

    public init(agent: AgentRecordBuilder) { self.agent = agent }

    /// `BlockAddress`, `LockAccount`, `RunCommand`: done, in force until `expiresAt`.
    public func performed(_ action: ResponseAction, expiresAt: Int64, details: [String: JSONValue], now: Date) -> CloudTrailRecord {
        var response = details
        response["expiresAt"] = .string(TrailTime.formatEpochSeconds(expiresAt))
        response["durationSeconds"] = .integer(action.seconds)
        response["offence"] = .integer(Int64(action.offence))
        return record(Self.performedName(action.target.kind), request: action.request, step: "perform", response: .object(response), now: now)
    }

    /// The request was refused (`code`), or acting on it failed.
    public func unsuccessful(
        _ request: ResponseRequest, kind: ResponseDefinition.Kind?, step: String, code: String, message: String, details: [String: JSONValue] = [:],
        now: Date
    ) -> CloudTrailRecord {
        let name: String
        if request.reverts != nil {
            name = kind.map(Self.revertedName) ?? "RevertResponse"
        } else {
            name = kind.map(Self.performedName) ?? "PerformResponse"
        }
        var record = record(name, request: request, step: step, response: details.isEmpty ? .null : .object(details), now: now)
        record.errorCode = code
        record.errorMessage = message
        return record
    }

    /// `UnblockAddress`, `UnlockAccount`, `RevertCommand`: the response ended, by `reason`
    /// (`expired`, `reverted` by request, `expired-while-stopped` found at start).
    public func ended(_ active: ResponseBook.Active, reason: String, by revert: ResponseRequest?, details: [String: JSONValue], now: Date)
        -> CloudTrailRecord
    {
        var response = details
        response["reason"] = .string(reason)
        response["expiresAt"] = .string(TrailTime.formatEpochSeconds(active.expiresAt))
        if let revert { response["revertRequestId"] = .string(revert.id) }
        return record(
            Self.revertedName(active.action.target.kind), request: active.action.request, step: "end", response: .object(response), now: now)
    }

    /// The record's name for a response of `kind` performed, or ended.
    static func performedName(_ kind: ResponseDefinition.Kind) -> String {
        switch kind {
        case .blockAddress: "BlockAddress"
        case .lockAccount: "LockAccount"
        case .command: "RunCommand"
        }
    }

    static func revertedName(_ kind: ResponseDefinition.Kind) -> String {
        switch kind {
        case .blockAddress: "UnblockAddress"
        case .lockAccount: "UnlockAccount"
        case .command: "RevertCommand"
        }
    }

    /// The event ID derives from the request and the step, so a request handled again after a
    /// crash (before its acknowledgement) is stored once.
    func record(_ eventName: String, request: ResponseRequest, step: String, response: JSONValue, now: Date) -> CloudTrailRecord {
        var parameters: [String: JSONValue] = [
            "requestId": .string(request.id), "response": .string(request.response),
            "arguments": .object(request.arguments.mapValues(JSONValue.string)),
            "triggeringEventIds": .array(request.eventIDs.map(JSONValue.string)),
        ]
        if let rule = request.rule { parameters["ruleName"] = .string(rule) }
        if let seconds = request.seconds { parameters["durationSeconds"] = .integer(seconds) }
        if let reverts = request.reverts { parameters["reverts"] = .string(reverts) }
        var record = agent.record(eventName: eventName, now: now, parameters: parameters, position: "response;request=\(request.id);step=\(step)")
        record.eventSource = Self.eventSource
        record.responseElements = response
        record.readOnly = false
        if let address = request.arguments["address"], IPAddressBytes.parse(address) != nil {
            // Looked up by the address: `lookup-events --lookup-attributes AttributeKey=ResourceName,…`.
            record.resources =
                (record.resources ?? []) + [RecordResource(arn: "arn:hosttrail:address:::\(address)", accountId: nil, type: "HostTrail::Address")]
        }
        return record
    }
}
