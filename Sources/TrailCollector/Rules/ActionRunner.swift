// SPDX-License-Identifier: Apache-2.0

import Crypto
import CurlTransport
import Foundation
import Logging
import TrailCore
import TrailRules

/// Runs one attempt of an action. Blocking work (libcurl, waiting for a program) runs on a thread
/// of its own, never on the cooperative threads the collector's tasks share (as many as cores).
struct ActionRunner: Sendable {
    let logger: Logger

    func run(_ job: ActionJob, attempt: Int) async -> ActionOutcome {
        switch job.action {
        case .webhook(let webhook):
            return await blocking { Self.post(webhook, job: job) }
        case .exec(let exec):
            return await blocking { ProgramAction.run(exec, input: Data(job.payload.utf8)) }
        case .log(let log):
            logMatch(job, priority: log.priority)
            return .success(["priority": .string(log.priority)])
        case .respond:
            // Queued by the dispatcher's fan-out (ResponseDesk), never run here.
            return ActionOutcome(
                errorCode: "NotRunnable", errorMessage: "respond is queued to hosts", details: [:], retryable: false, retryAfter: nil)
        }
    }

    func blocking(_ work: @escaping @Sendable () -> ActionOutcome) async -> ActionOutcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    /// A line at the rule's priority: the rule, the group and the count, each value escaped (a
    /// group key is what an attacker chose, an SSH user name say).
    func logMatch(_ job: ActionJob, priority: String) {
        let level: Logger.Level =
            switch priority {
            case "emerg", "alert", "crit": .critical
            case "err": .error
            case "warning": .warning
            case "notice": .notice
            case "info": .info
            default: .debug
            }
        let detail = (try? JSONValue.parse(Data(job.payload.utf8)))?["detail"]
        let parameters = detail?["requestParameters"]
        let group = parameters?["groupBy"].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "{}"
        logger.log(
            level: level, "rule \(IdentifierText.escapingControlCharacters(job.rule)) matched",
            metadata: [
                "rule": "\(IdentifierText.escapingControlCharacters(job.rule))", "rule.group": "\(IdentifierText.escapingControlCharacters(group))",
                "rule.count": "\(parameters?["count"]?.integerValue ?? 0)", "rule.match": "\(job.matchEventID)",
            ])
    }

    // MARK: - Webhooks

    /// `X-HostTrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as
    /// Stripe-style receivers check it: the timestamp bounds a replay, the key proves the sender.
    static func signature(body: Data, secret: Data, timestamp: Int64) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func post(_ webhook: RuleAction.Webhook, job: ActionJob) -> ActionOutcome {
        let body = Data(job.payload.utf8)
        var headers = [
            "Content-Type: application/json", "User-Agent: hosttrail-collector/\(HostTrailVersion.current)",
            "Idempotency-Key: \(job.idempotencyKey)", "X-HostTrail-Rule: \(job.rule)",
        ]
        if let file = webhook.secretFile {
            guard var secret = FileManager.default.contents(atPath: file), !secret.isEmpty else {
                return ActionOutcome(
                    errorCode: "SecretUnreadable", errorMessage: "cannot read the webhook's secret-file \(file)", details: [:], retryable: true,
                    retryAfter: nil)
            }
            if secret.last == 0x0A { secret.removeLast() }
            headers.append("X-HostTrail-Signature: \(signature(body: body, secret: secret, timestamp: Int64(Date().timeIntervalSince1970)))")
        }
        do {
            let client = try HTTPSClient(
                configuration: .init(
                    caFile: webhook.caFile, connectTimeout: .seconds(min(10, webhook.timeoutSeconds)), totalTimeout: .seconds(webhook.timeoutSeconds))
            )
            let response = try client.post(url: webhook.url, headers: headers, body: body)
            var details: [String: JSONValue] = ["statusCode": .integer(Int64(response.status))]
            if (200..<300).contains(response.status) { return .success(details) }
            details["body"] = .string(String(decoding: response.body.prefix(1024), as: UTF8.self))
            let retryAfter = RetryBackoff.parseRetryAfter(response.headers.first { $0.key.lowercased() == "retry-after" }?.value)
            return ActionOutcome(
                errorCode: "HTTP\(response.status)", errorMessage: "the receiver answered \(response.status)", details: details,
                retryable: RetryBackoff.disposition(forStatus: response.status) == .retry, retryAfter: retryAfter)
        } catch {
            return ActionOutcome(errorCode: "DeliveryFailed", errorMessage: "\(error)", details: [:], retryable: true, retryAfter: nil)
        }
    }
}
