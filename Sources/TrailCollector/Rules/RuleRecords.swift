// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailRules

/// The records rules write, in `rules.hosttrail`, under the collector's own host: `RuleMatched`
/// for each firing, `InvokeAction` for each attempt of an action. Bound like any record, so they
/// are looked up, archived and signed like any other.
struct RuleRecords: Sendable {
    let binder: RecordBinder

    static let eventSource = RecordBinder.rulesEventSource
    static let identity = UserIdentity(type: "AWSService", principalId: "hosttrail-collector", userName: "hosttrail-rules")

    /// `RuleMatched`: the rule, the group key, the count, the window, the matching records. Its
    /// event ID is the firing's (derived), its time the record's that completed the window, so
    /// the same firing evaluated again after a restart is the same record.
    func matched(_ firing: RuleFiring, rule: Rule) throws -> StoredRecord {
        var parameters: [String: JSONValue] = [
            "ruleName": .string(firing.rule), "mode": .string(firing.mode.rawValue), "groupBy": .object(firing.groupKey),
            "count": .integer(Int64(firing.count)),
            "windowStart": .string(TrailTime.formatEpochSeconds(firing.windowStart / 1000)),
            "windowEnd": .string(TrailTime.formatEpochSeconds(firing.windowEnd / 1000)),
            "matchedEvents": .array(
                firing.events.map {
                    ["eventID": .string($0.eventID), "host": .string($0.host), "eventTime": .string(TrailTime.formatEpochSeconds($0.time / 1000))]
                }),
        ]
        if let span = firing.windowMilliseconds {
            parameters["windowType"] = .string(rule.window?.kind.rawValue ?? "")
            parameters["timespanSeconds"] = .integer(span / 1000)
        }
        let listed = firing.events.count
        if firing.count > listed { parameters["matchedEventsOmitted"] = .integer(Int64(firing.count - listed)) }
        let record = CloudTrailRecord(
            userIdentity: Self.identity, eventTime: TrailTime.formatEpochSeconds(firing.windowEnd / 1000), eventSource: Self.eventSource,
            eventName: "RuleMatched", sourceIPAddress: Self.eventSource, userAgent: "hosttrail-collector",
            requestParameters: .object(parameters),
            responseElements: [
                "actions": .array(rule.actions.map { .string($0.kind) }), "actionsRun": .bool(firing.mode == .enforce && !rule.actions.isEmpty),
            ],
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]],
            requestID: firing.id, eventID: firing.id, readOnly: true, eventType: "AwsServiceEvent", managementEvent: true,
            eventCategory: "Management")
        return try binder.bind(record, index: 0, host: RecordBinder.collectorHost)
    }

    /// `InvokeAction`: one attempt of `job`, its outcome in `responseElements`, `errorCode` when it failed.
    func invoked(_ job: ActionJob, attempt: Int, outcome: ActionOutcome, at time: Date) throws -> StoredRecord {
        let eventID = EventID.derive(machineID: "collector", source: "invoke-action", position: "\(job.idempotencyKey);\(attempt);\(job.createdAt)")
        var parameters: [String: JSONValue] = [
            "ruleName": .string(job.rule), "action": .string(job.action.kind), "matchEventID": .string(job.matchEventID),
            "idempotencyKey": .string(job.idempotencyKey), "attempt": .integer(Int64(attempt)),
        ]
        switch job.action {
        case .webhook(let webhook): parameters["url"] = .string(webhook.url)
        case .exec(let exec):
            parameters["command"] = .array(exec.command.map(JSONValue.string))
            parameters["user"] = .string(exec.user)
        case .log(let log): parameters["priority"] = .string(log.priority)
        case .respond(let respond): parameters["response"] = .string(respond.response)
        }
        let record = CloudTrailRecord(
            userIdentity: Self.identity, eventTime: TrailTime.format(time), eventSource: Self.eventSource, eventName: "InvokeAction",
            sourceIPAddress: Self.eventSource, userAgent: "hosttrail-collector", errorCode: outcome.errorCode, errorMessage: outcome.errorMessage,
            requestParameters: .object(parameters), responseElements: .object(outcome.details),
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        return try binder.bind(record, index: 0, host: RecordBinder.collectorHost)
    }

    /// What an action is given: the match's EventBridge envelope (its `detail` the `RuleMatched`
    /// record) and `matchedRecords`, the records it names, up to ``maxPayloadRecordBytes``.
    static func payload(match: StoredRecord, matchedRecords: [String]) throws -> String {
        let detail = try JSONValue.parse(Data(match.json.utf8))
        guard case .object(var envelope) = EventBridgeEnvelope.envelope(ofRecordJSON: detail) else { return match.json }
        var records: [JSONValue] = []
        var bytes = 0
        for json in matchedRecords {
            bytes += json.utf8.count
            guard bytes <= maxPayloadRecordBytes else { break }
            records.append(try JSONValue.parse(Data(json.utf8)))
        }
        envelope["matchedRecords"] = .array(records)
        return String(decoding: JSONValue.object(envelope).serialized(), as: UTF8.self)
    }

    /// The most bytes of matched records an action's document carries (the rest are named by ID
    /// in the match's `matchedEvents`).
    static let maxPayloadRecordBytes = 1 << 20
}
