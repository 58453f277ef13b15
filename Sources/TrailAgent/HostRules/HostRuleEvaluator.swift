// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization
import TrailCore
import TrailRules

/// The host's own rules, evaluated on its own records as they are committed, on a thread of its
/// own: a firing's `respond` actions are performed here at once (``ResponseService``), whether or
/// not the collector is reachable — fail2ban's guarantee, with the fleet's rule engine. What they
/// did is recorded and reaches the collector with the other records.
///
/// Records reach it from ``RuleTeeSink`` after the spool has them; a backlog past
/// ``maxQueuedBytes`` drops the oldest batches unevaluated, counted and logged.
final class HostRuleEvaluator: Service, Sendable {
    /// Set once the responses exist (they commit their records through the sink this evaluator
    /// watches, so they are made after it).
    private let responses = Mutex<ResponseService?>(nil)
    let host: String
    let logger: Logger
    private let queue = Mutex(Queue())
    private let wakeup = PosixCondition()
    private let engine: Mutex<RuleEngine>
    private let byName: LiveValue<[String: Rule]>

    /// The most record bytes waiting to be evaluated (a journal or file batch is a few MB).
    static let maxQueuedBytes = 32 << 20
    /// Before a host rule's request ID (`local-<match>/<action>`): the host's own, not the collector's.
    static let requestPrefix = "local-"

    private struct Queue: ~Copyable {
        var batches: [[UInt8]] = []
        var bytes = 0
        var dropped = 0
        var stopping = false
    }

    init(rules: [Rule], host: String, logger: Logger) {
        engine = Mutex(RuleEngine(rules: rules))
        byName = LiveValue(Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        self.host = host
        self.logger = logger
    }

    /// A reload's rules: a rule whose name and content are unchanged keeps its windows' counts.
    func replaceRules(_ rules: [Rule]) {
        engine.withLock { engine in
            engine.replaceRules(rules)
            byName.set(Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// Where firings' responses are performed.
    func respond(with service: ResponseService) {
        responses.withLock { $0 = service }
    }

    /// Spool frames of records just committed (called from the sink's completion: must not block).
    func committed(_ frames: [UInt8]) {
        queue.withLock { queue in
            queue.batches.append(frames)
            queue.bytes += frames.count
            while queue.bytes > Self.maxQueuedBytes, queue.batches.count > 1 {
                queue.bytes -= queue.batches.removeFirst().count
                queue.dropped += 1
            }
        }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    func run() async throws {
        try DedicatedThread.start(name: "host-rules") { self.loop() }
        try? await gracefulShutdown()
        queue.withLock { $0.stopping = true }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    func loop() {
        while true {
            wakeup.lock()
            var taken: (batches: [[UInt8]], dropped: Int, stopping: Bool) = ([], 0, false)
            while true {
                taken = queue.withLock { queue in
                    defer {
                        queue.batches.removeAll()
                        queue.bytes = 0
                        queue.dropped = 0
                    }
                    return (queue.batches, queue.dropped, queue.stopping)
                }
                if !taken.batches.isEmpty || taken.stopping { break }
                wakeup.wait()
            }
            wakeup.unlock()
            if taken.dropped > 0 {
                logger.error("host rules fell behind; batches of records were not evaluated", metadata: ["batches": "\(taken.dropped)"])
            }
            // What was taken is evaluated, stopping or not (responses refuse once they stop).
            for frames in taken.batches { evaluate(frames) }
            if taken.stopping { return }
        }
    }

    func evaluate(_ frames: [UInt8]) {
        for entry in SpoolFrame.scan(frames, from: 0).entries where entry.kind == .record {
            guard let json = try? JSONValue.parse(Array(entry.payload)), json["eventSource"]?.stringValue != ResponseRecordBuilder.eventSource,
                let event = RuleEvent(recordJSON: json, host: host)
            else { continue }
            let firings = engine.withLock { $0.evaluate(event) }
            for firing in firings {
                guard let rule = byName.current[firing.rule] else { continue }
                logger.notice(
                    "host rule matched", metadata: ["rule": "\(rule.name)", "rule.match": "\(firing.id)", "rule.count": "\(firing.count)"])
                guard firing.mode == .enforce, let responder = responses.withLock({ $0 }) else { continue }
                for (index, action) in rule.actions.enumerated() {
                    guard case .respond(let respond) = action else { continue }
                    switch respond.arguments(in: event.envelope) {
                    case .success(let arguments):
                        let now = Int64(Date().timeIntervalSince1970)
                        responder.performLocal(
                            ResponseRequest(
                                id: "\(Self.requestPrefix)\(firing.id)/\(index)", response: respond.response, arguments: arguments,
                                seconds: respond.seconds,
                                deadline: now + respond.deadlineSeconds, rule: rule.name, eventIDs: firing.events.map(\.eventID)))
                    case .failure(let missing):
                        logger.error("a host rule's response has no argument", metadata: ["rule": "\(rule.name)", "error": "\(missing)"])
                    }
                }
            }
        }
    }
}
