// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization
import TrailCore

/// The host's side of responses, on a thread of its own: a long-poll to the collector over the
/// agent's mTLS identity (`POST /v1/responses`, ``ResponsePoll``) brings requests the moment they
/// are queued; each is held to the host's own definitions (``ResponsePolicy``), performed or
/// refused, recorded (`responses.hosttrail`) and acknowledged with the next poll. Responses end
/// on time whether or not the collector is reachable.
///
/// Order of each step, so a crash loses nothing and repeats nothing: the book (with the response's
/// end) is saved before acting; the record is committed after acting, then the book again. A
/// request delivered again is answered from the book; a response in force whose record was not
/// committed is recorded at the next start; one whose end passed while the agent was down is ended
/// (and recorded) at start; a ban stays in the kernel with its own timeout meanwhile.
final class ResponseService: Service, Sendable {
    struct Settings: Sendable {
        var url: String
        var client: HTTPSClient.Configuration
    }

    /// The host's definitions held to; a reload replaces them (``replaceDefinitions(_:)``).
    private let livePolicy: LiveValue<ResponsePolicy>
    var policy: ResponsePolicy { livePolicy.current }
    let executor: ResponseExecutor
    let bookFile: ResponseBookFile
    let records: ResponseRecordBuilder
    let context: SourceContext
    let settings: Settings
    let logger: Logger
    private let phase = Mutex(Phase())
    /// Held while a request is handled or a response ended: the poll's thread and the host rules'
    /// share it, one at a time. Loaded (or refused) in ``run()`` before either starts.
    private let book = Mutex<ResponseBook?>(nil)

    private struct Phase: ~Copyable {
        var stopping = false
        var handling = 0
        var waiter: CheckedContinuation<Void, Never>?
        /// Until the book is loaded and the firewall prepared, host rules' requests wait here.
        var ready = false
        var waitingLocal: [ResponseRequest] = []
    }

    init(
        definitions: [ResponseDefinition], protectedAddresses: [CIDRBlock], executor: ResponseExecutor, bookFile: ResponseBookFile,
        records: ResponseRecordBuilder, context: SourceContext, settings: Settings, logger: Logger
    ) {
        livePolicy = LiveValue(ResponsePolicy(definitions: definitions, protectedAddresses: protectedAddresses))
        self.executor = executor
        self.bookFile = bookFile
        self.records = records
        self.context = context
        self.settings = settings
        self.logger = logger
    }

    func run() async throws {
        let client = try HTTPSClient(configuration: settings.client)
        do {
            let loaded = try bookFile.load()
            book.withLock { $0 = loaded }
            try DedicatedThread.start(name: "responses") { self.loop(client: client) }
        } catch {
            logger.critical(
                "cannot read the responses book; no responses are performed or ended until it is repaired or removed",
                metadata: ["path": "\(bookFile.path)", "error": "\(error)"])
        }
        try? await gracefulShutdown()
        // A poll in flight is abandoned (what it brings is delivered again); a request being
        // handled is finished first, so its record and book are complete.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = phase.withLock { phase -> Bool in
                phase.stopping = true
                guard phase.handling > 0 else { return true }
                phase.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Runs `body` on the book unless stopping or the book is unavailable (`nil` then); a
    /// shutdown waits for it.
    private func withBook<Result>(_ body: (inout ResponseBook) -> Result) -> Result? {
        let began = phase.withLock { phase -> Bool in
            guard !phase.stopping else { return false }
            phase.handling += 1
            return true
        }
        guard began else { return nil }
        defer {
            let waiter = phase.withLock { phase -> CheckedContinuation<Void, Never>? in
                phase.handling -= 1
                guard phase.handling == 0 else { return nil }
                defer { phase.waiter = nil }
                return phase.waiter
            }
            waiter?.resume()
        }
        return book.withLock { state -> Result? in
            guard state != nil else { return nil }
            return body(&state!)
        }
    }

    /// A request of the host's own rules (``HostRuleEvaluator``): done at once, on the caller's
    /// thread, held to the same definitions; what it came to is recorded, not acknowledged.
    func performLocal(_ request: ResponseRequest) {
        let now = phase.withLock { phase -> Bool in
            guard !phase.ready else { return true }
            if phase.waitingLocal.count < 1000 { phase.waitingLocal.append(request) }
            return false
        }
        if now { _ = withBook { book in handle(request, book: &book) } }
    }

    /// The book is loaded and the firewall prepared: the host rules' requests that waited are done.
    private func becomeReady() {
        while true {
            let waiting = phase.withLock { phase -> [ResponseRequest] in
                defer { phase.waitingLocal.removeAll() }
                if phase.waitingLocal.isEmpty { phase.ready = true }
                return phase.waitingLocal
            }
            if waiting.isEmpty { return }
            for request in waiting { _ = withBook { book in handle(request, book: &book) } }
        }
    }

    private var stopping: Bool { phase.withLock { $0.stopping } }

    /// A reload's definitions: requests from now on are held to them. A response in force stays
    /// in force until its end, whatever became of its definition.
    func replaceDefinitions(_ definitions: [ResponseDefinition]) {
        let before = policy
        if !before.definitions.values.contains(where: { $0.kind == .blockAddress }) && definitions.contains(where: { $0.kind == .blockAddress }) {
            do {
                try executor.firewall.prepare()
            } catch {
                logger.error("cannot prepare the firewall table; block-address responses will fail", metadata: ["error": "\(error)"])
            }
        }
        livePolicy.set(ResponsePolicy(definitions: definitions, protectedAddresses: before.protectedAddresses))
    }

    // MARK: - The thread

    func loop(client: HTTPSClient) {
        // Outcomes to acknowledge, by request (a request answered twice is acknowledged once);
        // the host rules' own requests are the host's, not the collector's, and are not.
        var acks = Acks()
        let prepared = withBook { book in
            if policy.definitions.values.contains(where: { $0.kind == .blockAddress }) {
                do {
                    try executor.firewall.prepare()
                } catch {
                    logger.error("cannot prepare the firewall table; block-address responses will fail", metadata: ["error": "\(error)"])
                }
            }
            recover(&book)
        }
        guard prepared != nil else { return }
        becomeReady()
        var failures = RetryBackoff(base: .seconds(1), cap: .seconds(30))
        while !stopping {
            guard
                let nextExpiry = withBook({ book -> Int64? in
                    endDue(&book, acks: &acks, reason: "expired")
                    return book.nextExpiry
                })
            else { break }
            let now = Self.now()
            let untilExpiry = nextExpiry.map { Int(max(0, $0 - now)) } ?? ResponsePoll.maxWaitSeconds
            let sent = acks.first(Self.maxAcksPerPoll)
            let poll = ResponsePoll(
                acks: sent, waitSeconds: min(ResponsePoll.maxWaitSeconds, untilExpiry), responses: policy.definitions.keys.sorted())
            let answer: ResponsePoll.Answer
            do {
                let response = try client.post(
                    url: settings.url, headers: ["Content-Type: application/json"], body: try JSONEncoder().encode(poll))
                guard response.status == 200 else {
                    throw ResponseFailure(code: "PollRefused", message: "HTTP \(response.status): \(response.bodyText.prefix(300))")
                }
                answer = try JSONDecoder().decode(ResponsePoll.Answer.self, from: response.body)
                acks.remove(sent)
                failures.succeeded()
            } catch {
                let delay = failures.failed(randomFraction: Double.random(in: 0..<1))
                if failures.failures <= 1 || failures.failures % 10 == 0 {
                    logger.warning("cannot poll the collector for responses; retrying", metadata: ["error": "\(error)", "retry": "\(delay)"])
                }
                let untilNext = nextExpiry.map { Duration.seconds(max(0, $0 - Self.now())) } ?? delay
                DedicatedThread.sleep(for: min(delay, untilNext))
                continue
            }
            for request in answer.requests {
                guard let outcome = withBook({ book in handle(request, book: &book) }) else { break }
                acks.add(request.id, outcome)
            }
        }
    }

    /// At start: records what was performed but not recorded, ends what ended while the agent was
    /// down, and puts back the bans still in force (a reboot empties the kernel's sets).
    func recover(_ book: inout ResponseBook) {
        let now = Self.now()
        // Saved as performed, then the agent stopped before its record: done again where doing it
        // twice is harmless (a ban, a lock), recorded as interrupted where not (a program).
        for id in book.unrecorded.sorted() {
            guard let active = book.active[id] else { continue }
            if case .command = active.action.target {
                let message = "the agent stopped while the program ran; it may or may not have run to its end"
                commit(
                    records.unsuccessful(
                        active.action.request, kind: .command, step: "perform", code: "Interrupted", message: message, now: Date()))
                book.failed(id, code: "Interrupted", message: message)
                continue
            }
            do {
                let details = try executor.perform(active.action)
                commit(
                    records.performed(
                        active.action, expiresAt: active.expiresAt, details: details.merging(["recordedAtRestart": true]) { $1 }, now: Date()))
            } catch {
                commit(
                    records.unsuccessful(
                        active.action.request, kind: policy.definitions[active.action.request.response]?.kind, step: "perform", code: error.code,
                        message: error.message, details: error.details, now: Date()))
                book.failed(id, code: error.code, message: error.message)
            }
        }
        book.markRecorded()
        var acks = Acks()
        endDue(&book, acks: &acks, reason: "expired-while-stopped")
        for active in book.active.values {
            if case .address(let address) = active.action.target {
                try? executor.firewall.block(address, seconds: active.expiresAt - now)
            }
        }
        save(book)
    }

    func endDue(_ book: inout ResponseBook, acks: inout Acks, reason: String) {
        for active in book.due(now: Self.now()) {
            guard end(active, book: &book, reason: reason, by: nil) else { continue }
            acks.add(active.requestID, book.outcome(of: active.requestID) ?? .init(state: .expired))
        }
    }

    /// Ends `active`, records it, and takes it out of the book; `false` when ending failed: that is
    /// recorded and the response stays in the book, tried again after a back-off. (A ban whose
    /// duration is over has ended in the kernel whatever `nft` says: it is taken out.)
    @discardableResult
    func end(_ active: ResponseBook.Active, book: inout ResponseBook, reason: String, by revert: ResponseRequest?) -> Bool {
        do {
            let details = try executor.end(active)
            commit(records.ended(active, reason: reason, by: revert, details: details, now: Date()))
            book.ended(active.requestID, state: revert == nil ? .expired : .reverted)
            save(book)
            logger.notice("response ended", metadata: metadata(active.action.request, ["response.reason": "\(reason)"]))
            return true
        } catch {
            let request =
                revert
                ?? ResponseRequest(
                    id: active.requestID + "/end", response: active.action.request.response, arguments: active.action.request.arguments,
                    deadline: 0, rule: active.action.request.rule, eventIDs: active.action.request.eventIDs, reverts: active.requestID)
            commit(
                records.unsuccessful(
                    request, kind: policy.definitions[active.action.request.response]?.kind,
                    step: "end-failed-\((active.endFailures ?? 0) + 1)", code: error.code, message: error.message, details: error.details, now: Date()
                ))
            if revert == nil, case .address = active.action.target {
                book.ended(active.requestID, state: .expired)
                save(book)
                return true
            }
            book.endFailed(active.requestID, now: Self.now())
            save(book)
            logger.error("cannot end a response; trying again later", metadata: metadata(active.action.request, ["error": "\(error)"]))
            return false
        }
    }

    func handle(_ request: ResponseRequest, book: inout ResponseBook) -> ResponseBook.Outcome {
        if let outcome = book.outcome(of: request.id) { return outcome }
        let now = Self.now()
        if let target = request.reverts {
            guard let active = book.inForce(byRequest: target) else {
                let code = book.outcome(of: target) == nil ? "UnknownRequest" : "NotInForce"
                return refuse(request, code: code, reason: "no response of request \(target) is in force here", book: &book)
            }
            if end(active, book: &book, reason: "reverted", by: request) {
                book.performedRevert(request.id)
            } else {
                book.failedRevert(request.id, code: "RevertFailed", message: "the response is still in force; its end is tried again")
            }
            save(book)
            return book.outcome(of: request.id) ?? .init(state: .failed)
        }
        if let active = book.inForce(like: request, now: now) {
            // Already done (a host rule and a fleet rule both fired): not again, not another
            // offence; recorded, and a revert of this request ends it.
            let seconds = max(0, active.expiresAt - now)
            let answered = ResponseAction(request: request, target: active.action.target, seconds: seconds, offence: active.action.offence)
            commit(records.performed(answered, expiresAt: active.expiresAt, details: ["inForceByRequestId": .string(active.requestID)], now: Date()))
            book.alias(request.id, of: active)
            save(book)
            return book.outcome(of: request.id) ?? .init(state: .performed, expiresAt: active.expiresAt)
        }
        switch policy.decide(request, now: now, offences: book.offences(of: request, now: now), uid: AccountLock.uid(of:)) {
        case .refuse(let code, let reason):
            return refuse(request, code: code, reason: reason, book: &book)
        case .perform(let action):
            var wasLocked = false
            if case .account(let name, _) = action.target {
                do {
                    wasLocked = try executor.accounts.isLocked(name)
                } catch {
                    commit(
                        records.unsuccessful(
                            request, kind: .lockAccount, step: "perform", code: error.code, message: error.message, now: Date()))
                    book.failed(request.id, code: error.code, message: error.message)
                    save(book)
                    return book.outcome(of: request.id) ?? .init(state: .failed)
                }
            }
            book.begin(action, now: now, wasLockedBefore: wasLocked)
            guard save(book) else {
                // Not acting on what could not be made durable: its end would be forgotten.
                book.failed(request.id, code: "StateUnwritable", message: "the responses book cannot be saved")
                commit(
                    records.unsuccessful(
                        request, kind: policy.definitions[request.response]?.kind, step: "perform", code: "StateUnwritable",
                        message: "the responses book cannot be saved, so the response's end could not be kept", now: Date()))
                return book.outcome(of: request.id) ?? .init(state: .failed)
            }
            do {
                let details = try executor.perform(action)
                let expiresAt = book.active[request.id]?.expiresAt ?? now + action.seconds
                commit(records.performed(action, expiresAt: expiresAt, details: details, now: Date()))
                book.markRecorded()
                save(book)
                logger.notice("response performed", metadata: metadata(request, ["response.seconds": "\(action.seconds)"]))
            } catch {
                commit(
                    records.unsuccessful(
                        request, kind: policy.definitions[request.response]?.kind, step: "perform", code: error.code, message: error.message,
                        details: error.details, now: Date()))
                book.failed(request.id, code: error.code, message: error.message)
                save(book)
                logger.error("response failed", metadata: metadata(request, ["error": "\(error)"]))
            }
            return book.outcome(of: request.id) ?? .init(state: .failed)
        }
    }

    func refuse(_ request: ResponseRequest, code: String, reason: String, book: inout ResponseBook) -> ResponseBook.Outcome {
        commit(
            records.unsuccessful(request, kind: policy.definitions[request.response]?.kind, step: "refuse", code: code, message: reason, now: Date()))
        book.refused(request.id, code: code, message: reason)
        save(book)
        logger.warning("response refused", metadata: metadata(request, ["error": "\(code): \(reason)"]))
        return book.outcome(of: request.id) ?? .init(state: .refused, errorCode: code, message: reason)
    }

    /// Commits `record` to the spool, waiting while the spool refuses (full, failing), until the
    /// agent stops.
    func commit(_ record: CloudTrailRecord) {
        guard let json = try? record.canonicalJSON() else { return }
        let pending = context.start(SourceBatch([json]))
        _ = context.wait(for: pending, stopping: { self.stopping })
    }

    /// The most acknowledgements one poll carries (the collector takes up to 1,000).
    static let maxAcksPerPoll = 500

    /// Outcomes waiting to be acknowledged, in the order they came, one per request.
    struct Acks {
        private var order: [String] = []
        private var outcomes: [String: ResponseBook.Outcome] = [:]

        mutating func add(_ id: String, _ outcome: ResponseBook.Outcome) {
            guard !id.hasPrefix(HostRuleEvaluator.requestPrefix) else { return }
            if outcomes.updateValue(outcome, forKey: id) == nil { order.append(id) }
        }

        func first(_ count: Int) -> [ResponsePoll.Ack] {
            order.prefix(count).compactMap { id in outcomes[id].map { ResponsePoll.Ack(id: id, outcome: $0) } }
        }

        mutating func remove(_ sent: [ResponsePoll.Ack]) {
            for ack in sent where outcomes[ack.id] == ack.outcome { outcomes[ack.id] = nil }
            order.removeAll { outcomes[$0] == nil }
        }
    }

    @discardableResult
    func save(_ book: ResponseBook) -> Bool {
        do {
            try bookFile.save(book)
            return true
        } catch {
            logger.error("cannot save the responses book", metadata: ["path": "\(bookFile.path)", "error": "\(error)"])
            return false
        }
    }

    func metadata(_ request: ResponseRequest, _ extra: Logger.Metadata) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["response": "\(request.response)", "response.request": "\(request.id)"]
        if let rule = request.rule { metadata["rule"] = "\(rule)" }
        for (name, value) in request.arguments.sorted(by: { $0.key < $1.key }) { metadata["response.\(name)"] = "\(value)" }
        return metadata.merging(extra) { $1 }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
