// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import TrailCore
import TrailRules

/// Runs the action jobs rules queue, each attempt recorded (`InvokeAction`) with the job's new
/// state in one transaction. A failed attempt is tried again after exponential back-off with full
/// jitter (a receiver's `Retry-After` wins when longer) until the action's attempts or age run
/// out; then the job is dead-lettered for `hosttrail actions retry`. Jobs survive restarts: one
/// pending when the collector stopped runs when it starts, with the same idempotency key.
final class ActionDispatcher: Service, Sendable {
    let ledger: any RuleLedger
    let pipeline: IngestPipeline
    let records: RuleRecords
    let runner: ActionRunner
    /// Where `respond` actions become requests to hosts.
    let desk: ResponseDesk
    let maxConcurrent: Int
    let logger: Logger
    let wakeup = Wakeup()
    /// Counts each attempt by action kind and the job's state after it.
    let metrics: CollectorMetrics?

    /// The first retry within a second, then doubling to at most five minutes.
    static let backoffBase = Duration.seconds(1)
    static let backoffCap = Duration.seconds(300)

    init(
        ledger: any RuleLedger, pipeline: IngestPipeline, records: RuleRecords, desk: ResponseDesk, maxConcurrent: Int,
        metrics: CollectorMetrics? = nil, logger: Logger
    ) {
        self.metrics = metrics
        self.ledger = ledger
        self.desk = desk
        self.pipeline = pipeline
        self.records = records
        self.runner = ActionRunner(logger: logger)
        self.maxConcurrent = maxConcurrent
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.dispatchContinuously() }
    }

    func dispatchContinuously() async {
        var failures = RetryBackoff(base: .milliseconds(100), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                let now = Self.milliseconds(Date())
                let due = try await ledger.dueJobs(now: now, limit: 256)
                if due.isEmpty {
                    let next = try await ledger.nextDue()
                    await wakeup.wait(atMost: .milliseconds(min(max((next ?? .max) - now, 0), 60_000)))
                    continue
                }
                let recorded = await withTaskGroup(of: Bool.self) { group in
                    var running = 0
                    var recorded = true
                    for job in due {
                        if running >= maxConcurrent {
                            recorded = await group.next() == true && recorded
                            running -= 1
                        }
                        group.addTask { await self.attempt(job) }
                        running += 1
                    }
                    for await done in group { recorded = done && recorded }
                    return recorded
                }
                guard recorded else { throw CollectorError(.storeUnavailable, "cannot record an action's attempt") }
                failures.succeeded()
            } catch {
                let delay = failures.failed(randomFraction: Double.random(in: 0..<1))
                logger.error("cannot read the action jobs; retrying", metadata: ["error": "\(error)", "actions.retry": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// `false` when the attempt could not be recorded.
    func attempt(_ job: ActionJob) async -> Bool {
        if case .respond(let respond) = job.action { return await fanOut(job, respond: respond) }
        let attempt = job.attempts + 1
        let outcome = await runner.run(job, attempt: attempt)
        let now = Date()
        let update = Self.update(job, attempt: attempt, outcome: outcome, now: now, randomFraction: Double.random(in: 0..<1))
        do {
            let record = try records.invoked(job, attempt: attempt, outcome: outcome, at: now)
            let stored = try await ledger.finish(job, update: update, record: record)
            await pipeline.committed(stored)
        } catch {
            // The job stays as it was: the attempt is made again (a receiver dedupes by key).
            logger.error("cannot record an action's attempt", metadata: ["error": "\(error)", "rule": "\(job.rule)", "action.job": "\(job.id)"])
            return false
        }
        metrics?.actionAttempted(kind: job.action.kind, state: update.state.rawValue)
        let metadata: Logger.Metadata = [
            "rule": "\(job.rule)", "action": "\(job.action.kind)", "action.job": "\(job.id)", "action.attempt": "\(attempt)",
            "action.state": "\(update.state.rawValue)",
        ]
        switch update.state {
        case .succeeded: logger.info("action done", metadata: metadata)
        case .pending: logger.notice("action failed; trying again", metadata: metadata.merging(["error": "\(outcome.errorCode ?? "")"]) { $1 })
        case .failed:
            logger.error("action given up; it is in the dead-letter list", metadata: metadata.merging(["error": "\(outcome.errorCode ?? "")"]) { $1 })
        }
        return true
    }

    /// A respond job: one request per host, their `RequestResponse` records, the job's attempt and
    /// its `InvokeAction` record in one transaction; then the hosts' long-polls are woken.
    func fanOut(_ job: ActionJob, respond: RuleAction.Respond) async -> Bool {
        let attempt = job.attempts + 1
        let now = Date()
        do {
            let requests: [QueuedResponse]
            let outcome: ActionOutcome
            switch try await desk.requests(for: job, respond: respond, now: Int64(now.timeIntervalSince1970)) {
            case .success(let list):
                requests = list
                outcome = .success(["hosts": .array(list.map { .string($0.host) }), "responseGroup": .string(list.first?.group ?? "")])
            case .failure(let refusal):
                requests = []
                outcome = ActionOutcome(errorCode: refusal.code, errorMessage: refusal.message, details: [:], retryable: false, retryAfter: nil)
            }
            let update = Self.update(job, attempt: attempt, outcome: outcome, now: now, randomFraction: 0)
            let requestRecords = try requests.map { try desk.requestRecord($0, matchEventID: job.matchEventID, at: now) }
            let invoked = try records.invoked(job, attempt: attempt, outcome: outcome, at: now)
            let stored = try await desk.ledger.queue(requests, records: requestRecords, job: job, update: update, invoked: invoked)
            await pipeline.committed(stored)
            desk.queued(requests)
            metrics?.actionAttempted(kind: job.action.kind, state: update.state.rawValue)
            if let code = outcome.errorCode {
                logger.error("respond action asked no host", metadata: ["rule": "\(job.rule)", "action.job": "\(job.id)", "error": "\(code)"])
            }
            return true
        } catch {
            logger.error(
                "cannot queue a respond action's requests", metadata: ["error": "\(error)", "rule": "\(job.rule)", "action.job": "\(job.id)"])
            return false
        }
    }

    /// The job after an attempt: done, tried again after a back-off, or given up.
    static func update(_ job: ActionJob, attempt: Int, outcome: ActionOutcome, now: Date, randomFraction: Double) -> ActionJob.Update {
        let nowMilliseconds = milliseconds(now)
        if outcome.succeeded {
            return ActionJob.Update(state: .succeeded, attempts: attempt, nextAttemptAt: nowMilliseconds, lastError: nil)
        }
        let error = [outcome.errorCode, outcome.errorMessage].compactMap { $0 }.joined(separator: ": ")
        var backoff = RetryBackoff(base: backoffBase, cap: backoffCap, failures: attempt - 1)
        let delay = backoff.failed(retryAfter: outcome.retryAfter, randomFraction: randomFraction)
        let next = nowMilliseconds + Int64(delay / .milliseconds(1))
        let policy = job.action.retry
        let deadline = job.createdAt + policy.maxAgeSeconds * 1000
        guard outcome.retryable, attempt < policy.maxAttempts, next <= deadline else {
            return ActionJob.Update(state: .failed, attempts: attempt, nextAttemptAt: nowMilliseconds, lastError: error)
        }
        return ActionJob.Update(state: .pending, attempts: attempt, nextAttemptAt: next, lastError: error)
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
