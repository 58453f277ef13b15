// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore
import TrailRules

/// HostTrail's own operations beside CloudTrail's, on the same endpoint and authentication, for
/// readers of the whole fleet only (rules and actions concern every host):
///
/// - `ListRules`: each rule in force, its counters and groups, and the files refused.
/// - `ListActionJobs` `{"State": "failed"|"pending"|"succeeded", "MaxResults": n}`: jobs, newest first.
/// - `RetryActionJob` `{"Id": n}`: a dead-lettered job queued again (its attempts and age afresh).
extension CloudTrailAPI {
    func rulesOperation(_ operation: String, body: Data, scope: LookupScope) async throws -> Data {
        guard scope == .fleet else {
            throw CloudTrailAPIError(type: "AccessDeniedException", message: "\(operation) needs a reader of the whole fleet")
        }
        guard let rules else { throw CloudTrailAPIError(type: "UnknownOperationException", message: "this collector has no rules") }
        let request = (try? JSONValue.parse(Array(body.isEmpty ? Data("{}".utf8) : body))) ?? .null
        guard request.objectValue != nil else {
            throw CloudTrailAPIError(type: "SerializationException", message: "the request is not a JSON object")
        }
        let result: JSONValue
        switch operation {
        case "ListRules":
            result = [
                "Rules": .array(rules.rules.map(Self.json)),
                "Refused": .array(
                    rules.refused.map {
                        ["File": .string($0.file), "Line": $0.error.line.map { .integer(Int64($0)) } ?? .null, "Reason": .string($0.error.reason)]
                    }),
            ]
        case "ListActionJobs":
            var state: ActionJob.State?
            if let text = request["State"]?.stringValue {
                guard let parsed = ActionJob.State(rawValue: text) else {
                    throw CloudTrailAPIError(type: "InvalidParameterException", message: "State is pending, succeeded or failed")
                }
                state = parsed
            }
            let limit = Int(request["MaxResults"]?.integerValue ?? 100)
            guard (1...1000).contains(limit) else { throw CloudTrailAPIError(type: "InvalidParameterException", message: "MaxResults is 1 to 1000") }
            let jobs = try await store.ruleLedger.jobs(in: state, limit: limit)
            result = ["Jobs": .array(jobs.map(Self.json))]
        default:
            guard let id = request["Id"]?.integerValue else {
                throw CloudTrailAPIError(type: "InvalidParameterException", message: "Id is a job's number")
            }
            guard try await store.ruleLedger.retry(jobID: id, now: Int64(Date().timeIntervalSince1970 * 1000)) else {
                throw CloudTrailAPIError(type: "ResourceNotFoundException", message: "there is no failed job \(id)")
            }
            rules.dispatcherWakeup.signal()
            result = ["Id": .integer(id), "State": "pending"]
        }
        return Data(result.serialized())
    }

    static func json(_ status: RuleStatusBoard.RuleStatus) -> JSONValue {
        [
            "Name": .string(status.name), "File": .string(status.file), "Description": status.description.map(JSONValue.string) ?? .null,
            "Mode": .string(status.mode.rawValue), "Window": status.window.map(JSONValue.string) ?? .null,
            "Actions": .array(status.actions.map(JSONValue.string)), "Matched": .integer(Int64(status.counters.matched)),
            "Fired": .integer(Int64(status.counters.fired)), "Suppressed": .integer(Int64(status.counters.suppressed)),
            "Evicted": .integer(Int64(status.counters.evicted)), "Dropped": .integer(Int64(status.counters.dropped)),
            "Late": .integer(Int64(status.counters.late)), "Groups": .integer(Int64(status.groups)),
            "LastFired": status.counters.lastFired.map { .string(TrailTime.formatEpochSeconds($0 / 1000)) } ?? .null,
        ]
    }

    static func json(_ job: ActionJob) -> JSONValue {
        var target: JSONValue = .null
        switch job.action {
        case .webhook(let webhook): target = .string(webhook.url)
        case .exec(let exec): target = .string(exec.command.joined(separator: " "))
        case .log(let log): target = .string(log.priority)
        case .respond(let respond): target = .string(respond.response)
        }
        return [
            "Id": .integer(job.id), "Rule": .string(job.rule), "Action": .string(job.action.kind), "Target": target,
            "State": .string(job.state.rawValue), "Attempts": .integer(Int64(job.attempts)),
            "CreatedAt": .string(TrailTime.formatEpochSeconds(job.createdAt / 1000)),
            "NextAttemptAt": .string(TrailTime.formatEpochSeconds(job.nextAttemptAt / 1000)),
            "LastError": job.lastError.map(JSONValue.string) ?? .null, "IdempotencyKey": .string(job.idempotencyKey),
            "MatchEventId": .string(job.matchEventID),
        ]
    }
}
