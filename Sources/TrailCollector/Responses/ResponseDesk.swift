// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore
import TrailRules

/// The collector's side of host responses: fans a rule's `respond` action out into one request
/// per host (each a `responses.hosttrail RequestResponse` record), answers the hosts' long-polls,
/// and queues reverts. The collector only asks; each host holds the request to its own
/// definitions and records what it did.
final class ResponseDesk: Service, Sendable {
    let ledger: any ResponseLedger
    let pipeline: IngestPipeline
    let binder: RecordBinder
    let board = ResponseBoard()
    let logger: Logger

    static let identity = UserIdentity(type: "AWSService", principalId: "hosttrail-collector", userName: "hosttrail-responses")

    init(ledger: any ResponseLedger, pipeline: IngestPipeline, binder: RecordBinder, logger: Logger) {
        self.ledger = ledger
        self.pipeline = pipeline
        self.binder = binder
        self.logger = logger
    }

    /// Until shutdown; then every long-poll is answered at once, so the listener stops promptly.
    func run() async throws {
        try? await gracefulShutdown()
        board.close()
    }

    // MARK: - Fan-out

    /// The requests of one attempt of a respond job, resolved from its match: their hosts and
    /// arguments, or why there are none (the job's outcome).
    func requests(for job: ActionJob, respond: RuleAction.Respond, now: Int64) async throws -> Result<[QueuedResponse], ResponseFanOutError> {
        let envelope = (try? JSONValue.parse(Data(job.payload.utf8))) ?? .null
        let matched = envelope["matchedRecords"]?.arrayValue ?? []
        let last = matched.last.map { EventBridgeEnvelope.envelope(ofRecordJSON: $0) } ?? .null
        let arguments: [String: String]
        switch respond.arguments(in: last) {
        case .success(let values): arguments = values
        case .failure(let missing): return .failure(ResponseFanOutError(code: "MissingArgument", message: missing.description))
        }
        let hosts: [String]
        switch respond.hosts {
        case .matched:
            let events = envelope["detail"]?["requestParameters"]?["matchedEvents"]?.arrayValue ?? []
            hosts = Array(Set(events.compactMap { $0["host"]?.stringValue }.filter { $0 != RecordBinder.collectorHost })).sorted()
        case .all:
            hosts = try await ledger.hosts().map(\.host)
        case .matching(let patterns):
            hosts = try await ledger.hosts().map(\.host).filter { RuleAction.Respond.host($0, matches: patterns) }
        }
        guard !hosts.isEmpty else {
            return .failure(ResponseFanOutError(code: "NoHosts", message: "no host takes requests among those the action names"))
        }
        let group = "rsp-" + EventID.derive(machineID: "collector", source: "respond", position: job.idempotencyKey).prefix(18)
        let matchedIDs = matched.compactMap { $0["eventID"]?.stringValue }
        return .success(
            hosts.map { host in
                let request = ResponseRequest(
                    id: "\(group)@\(host)", response: respond.response, arguments: arguments, seconds: respond.seconds,
                    deadline: now + respond.deadlineSeconds, rule: job.rule, eventIDs: matchedIDs)
                return QueuedResponse(request: request, group: group, host: host, now: now)
            })
    }

    /// `RequestResponse`: what the collector asked of `queued.host`, and why.
    func requestRecord(_ queued: QueuedResponse, matchEventID: String?, at time: Date) throws -> StoredRecord {
        let request = queued.request
        var parameters: [String: JSONValue] = [
            "requestId": .string(request.id), "responseGroup": .string(queued.group), "host": .string(queued.host),
            "response": .string(request.response), "arguments": .object(request.arguments.mapValues(JSONValue.string)),
            "deadline": .string(TrailTime.formatEpochSeconds(request.deadline)),
            "triggeringEventIds": .array(request.eventIDs.map(JSONValue.string)),
        ]
        if let seconds = request.seconds { parameters["durationSeconds"] = .integer(seconds) }
        if let rule = request.rule { parameters["ruleName"] = .string(rule) }
        if let matchEventID { parameters["matchEventId"] = .string(matchEventID) }
        if let reverts = request.reverts { parameters["reverts"] = .string(reverts) }
        let eventID = EventID.derive(machineID: "collector", source: "request-response", position: request.id)
        let record = CloudTrailRecord(
            userIdentity: Self.identity, eventTime: TrailTime.format(time), eventSource: ResponseRecordBuilder.eventSource,
            eventName: ResponseRecordBuilder.requestEventName, sourceIPAddress: ResponseRecordBuilder.eventSource, userAgent: "hosttrail-collector",
            requestParameters: .object(parameters), responseElements: .null,
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]], requestID: eventID, eventID: eventID, readOnly: false,
            eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        return try binder.bind(record, index: 0, host: RecordBinder.collectorHost)
    }

    /// Hosts have new requests.
    func queued(_ requests: [QueuedResponse]) {
        board.signal(requests.map(\.host))
        for queued in requests {
            logger.notice(
                "response requested",
                metadata: ["response": "\(queued.request.response)", "response.request": "\(queued.request.id)", "response.host": "\(queued.host)"])
        }
    }

    // MARK: - Revert

    /// Reverts request or group `id` everywhere it was sent; `nil` when there is no such request.
    func revert(id: String) async throws -> (queued: [QueuedResponse], cancelled: Int)? {
        let now = Date()
        guard let result = try await ledger.revert(id: id, now: Int64(now.timeIntervalSince1970)) else { return nil }
        if !result.queued.isEmpty {
            try await pipeline.commit(try result.queued.map { try requestRecord($0, matchEventID: nil, at: now) })
            queued(result.queued)
        }
        return result
    }

    // MARK: - The hosts' long-poll

    /// One `POST /v1/responses` of `host`: its acknowledgements, then the requests waiting for
    /// it, at once when there are some, else when one is queued or the poll's wait is over.
    func exchange(host: String, body: Data) async throws -> Data {
        var poll: ResponsePoll
        do {
            poll = try JSONDecoder().decode(ResponsePoll.self, from: body)
        } catch {
            throw IngestRejection.badRequest("the body is not a response poll: \(error)")
        }
        guard poll.acks.count <= 1000, poll.responses.count <= 1000 else {
            throw IngestRejection.badRequest("a poll carries at most 1000 acknowledgements and 1000 response names")
        }
        let now = Int64(Date().timeIntervalSince1970)
        poll.acks = poll.acks.map { Self.bounded($0, now: now) }
        let wait = min(max(poll.waitSeconds, 0), ResponsePoll.maxWaitSeconds)
        let generation = board.generation(of: host)
        var requests = try await ledger.exchange(host: host, poll: poll, now: Int64(Date().timeIntervalSince1970))
        if requests.isEmpty && wait > 0 {
            await board.wait(host: host, since: generation, timeout: .seconds(wait))
            let again = ResponsePoll(acks: [], waitSeconds: 0, responses: poll.responses)
            requests = try await ledger.exchange(host: host, poll: again, now: Int64(Date().timeIntervalSince1970))
        }
        return try JSONEncoder().encode(ResponsePoll.Answer(requests: requests))
    }
}

extension ResponseDesk {
    /// A host's acknowledgement as the store keeps it: what a host sends is not trusted to be
    /// sane (an expiry past year 9999, a megabyte of message), so the expiry must fall within a
    /// year and a half of now and the texts are cut.
    static func bounded(_ ack: ResponsePoll.Ack, now: Int64) -> ResponsePoll.Ack {
        var ack = ack
        if let expiresAt = ack.outcome.expiresAt, !(now - 86_400...now + 550 * 86_400).contains(expiresAt) { ack.outcome.expiresAt = nil }
        ack.outcome.errorCode = ack.outcome.errorCode.map { String($0.prefix(128)) }
        ack.outcome.message = ack.outcome.message.map { String($0.prefix(2048)) }
        return ack
    }
}

/// Why a respond action asked no host: the `InvokeAction` record's error.
struct ResponseFanOutError: Error, Sendable {
    var code: String
    var message: String
}
