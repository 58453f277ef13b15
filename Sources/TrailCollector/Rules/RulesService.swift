// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TrailCore
import TrailRules

/// Evaluates every stored record against the rules, in the order records were stored, and stores
/// each firing as a `RuleMatched` record with its action jobs, in one transaction.
///
/// Where evaluation stands (the last row and the engine's windows) is saved at most every
/// ``positionInterval``; after a crash the records since are evaluated again from the saved
/// windows, which makes the same firings under the same IDs: stored once, their jobs queued
/// once. Its own records (`rules.hosttrail`) are not evaluated, so no rule can feed on itself.
final class RulesService: Service, Sendable {
    let directory: String
    let ledger: any RuleLedger
    let pipeline: IngestPipeline
    let records: RuleRecords
    let feed: RuleFeed
    let dispatcher: ActionDispatcher
    let maxGroupsPerRule: Int
    let board: RuleStatusBoard
    let logger: Logger
    private let reloadRequested = Mutex(false)
    /// Each rule file in force and its rule (a broken file keeps its previous rule).
    private let inForce = Mutex<[String: Rule]>([:])

    static let positionInterval = Duration.seconds(1)
    static let batchSize = 512

    init(
        directory: String, ledger: any RuleLedger, pipeline: IngestPipeline, records: RuleRecords, feed: RuleFeed, dispatcher: ActionDispatcher,
        maxGroupsPerRule: Int, board: RuleStatusBoard, logger: Logger
    ) {
        self.board = board
        self.directory = directory
        self.ledger = ledger
        self.pipeline = pipeline
        self.records = records
        self.feed = feed
        self.dispatcher = dispatcher
        self.maxGroupsPerRule = maxGroupsPerRule
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.evaluateContinuously() }
    }

    /// The rules directory is read again before the next records are evaluated (a reload, SIGHUP).
    func requestReload() {
        reloadRequested.withLock { $0 = true }
        feed.wakeup.signal()
    }

    /// Reads the directory; the rules in force after it, in file order.
    func loadRules() -> [Rule] {
        let contents = RuleDirectory.load(directory)
        return inForce.withLock { current in
            if contents.missing {
                logger.notice("no rules directory; no rules are evaluated", metadata: ["rules.dir": "\(directory)"])
                current = [:]
                return []
            }
            var next: [String: Rule] = [:]
            for entry in contents.entries { next[entry.file] = entry.rule }
            for problem in contents.problems {
                let file = (problem.file as NSString).lastPathComponent
                if let previous = current[file], !next.values.contains(where: { $0.name == previous.name }) {
                    next[file] = previous
                    logger.error("rule file refused; its previous version stays in force", metadata: ["rules.file": "\(problem)"])
                } else {
                    logger.error("rule file refused", metadata: ["rules.file": "\(problem)"])
                }
            }
            current = next
            board.loaded(refused: contents.problems)
            let rules = next.sorted { $0.key < $1.key }.map(\.value)
            logger.notice(
                "rules loaded",
                metadata: ["rules.dir": "\(directory)", "rules.count": "\(rules.count)", "rules.refused": "\(contents.problems.count)"])
            return rules
        }
    }

    /// Each rule in force's file, by rule name.
    var files: [String: String] {
        inForce.withLock { Dictionary($0.map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first }) }
    }

    func evaluateContinuously() async {
        var engine = RuleEngine(rules: loadRules(), maxGroupsPerRule: maxGroupsPerRule)
        board.update(engine: engine, files: files)
        var failures = RetryBackoff(base: .milliseconds(100), cap: .seconds(30))
        var cursor: Int64?
        var saved = ContinuousClock.now
        var savedRow: Int64?
        while !Task.isCancelled {
            do {
                if cursor == nil {
                    let position = try await ledger.position()
                    if let snapshot = position?.snapshot {
                        do {
                            try engine.restore(snapshot)
                        } catch {
                            logger.error("the rules' saved windows cannot be read; they start empty", metadata: ["error": "\(error)"])
                        }
                    }
                    cursor = try await ledger.newestRow()
                    if let position { cursor = position.row }
                    savedRow = position?.row
                }
                if reloadRequested.withLock({ flag in
                    defer { flag = false }; return flag
                }) {
                    engine.replaceRules(loadRules())
                    board.update(engine: engine, files: files)
                }
                // Without rules nothing is read back: the position follows the store.
                let batch = engine.rules.isEmpty ? [] : try await ledger.records(after: cursor!, limit: Self.batchSize)
                if engine.rules.isEmpty { cursor = try await ledger.newestRow() }
                if batch.isEmpty {
                    await feed.wakeup.wait(atMost: .seconds(1))
                    if cursor != savedRow, ContinuousClock.now - saved >= Self.positionInterval {
                        try await save(engine: engine, row: cursor!)
                        (saved, savedRow) = (.now, cursor)
                    }
                    continue
                }
                var matches: [StoredRecord] = []
                var jobs: [ActionJob.New] = []
                if !engine.rules.isEmpty {
                    let byName = Dictionary(engine.rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                    for row in batch where row.eventSource != RecordBinder.rulesEventSource {
                        guard let json = try? JSONValue.parse(Data(row.json.utf8)), let event = RuleEvent(recordJSON: json, host: row.host) else {
                            continue
                        }
                        for firing in engine.evaluate(event) {
                            guard let rule = byName[firing.rule] else { continue }
                            let match: StoredRecord
                            do {
                                match = try records.matched(firing, rule: rule)
                            } catch {
                                // A match no record can hold (past --max-record-bytes: group values
                                // an attacker made huge) is logged and dropped, not retried forever.
                                logger.error(
                                    "a rule's match cannot be recorded; it is dropped",
                                    metadata: ["rule": "\(rule.name)", "rule.match": "\(firing.id)", "error": "\(error)"])
                                continue
                            }
                            matches.append(match)
                            guard firing.mode == .enforce, !rule.actions.isEmpty else { continue }
                            let payload = try RuleRecords.payload(match: match, matchedRecords: try await ledger.recordJSON(of: firing.events))
                            for (index, action) in rule.actions.enumerated() {
                                jobs.append(
                                    ActionJob.New(
                                        rule: rule.name, matchEventID: match.eventID, action: action, idempotencyKey: "\(firing.id)/\(index)",
                                        payload: payload))
                            }
                        }
                    }
                }
                let last = batch[batch.count - 1].row
                // Matches are stored at once; the position only every interval (a crash in
                // between evaluates again to the same matches, which are stored once).
                let due = ContinuousClock.now - saved >= Self.positionInterval
                let position = due ? RulePosition(row: last, snapshot: try engine.snapshot()) : nil
                if !matches.isEmpty || position != nil {
                    let stored = try await ledger.commit(matches: matches, jobs: jobs, position: position)
                    await pipeline.committed(stored)
                    if !jobs.isEmpty { dispatcher.wakeup.signal() }
                    if due { (saved, savedRow) = (.now, last) }
                }
                cursor = last
                board.update(engine: engine, files: files)
                failures.succeeded()
            } catch {
                // Nothing is lost: evaluation starts again from the position last saved.
                let delay = failures.failed(randomFraction: Double.random(in: 0..<1))
                logger.error(
                    "cannot evaluate rules; retrying from the last saved position", metadata: ["error": "\(error)", "rules.retry": "\(delay)"])
                engine = RuleEngine(rules: engine.rules, maxGroupsPerRule: maxGroupsPerRule)
                cursor = nil
                try? await Task.sleep(for: delay)
            }
        }
        // At shutdown: where evaluation stands, so a restart reads nothing twice.
        if let cursor, cursor != savedRow {
            let final = engine
            await Task { try? await self.save(engine: final, row: cursor) }.value
        }
    }

    func save(engine: RuleEngine, row: Int64) async throws {
        _ = try await ledger.commit(matches: [], jobs: [], position: RulePosition(row: row, snapshot: try engine.snapshot()))
    }
}
