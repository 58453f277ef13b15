// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import CurlTransport
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TrailCore

/// Ships spooled records to the collector: gzip batches to `POST /v1/records` over HTTPS with the
/// host's client certificate, acknowledged in the spool only after the collector's `200`.
///
/// 408, 429, 5xx and network failures are retried with exponential backoff and full jitter; 413
/// splits the batch; any other 4xx moves it to the dead-letter directory so it never blocks the
/// queue. On graceful shutdown it keeps shipping for up to ``drainTimeout`` so that queued records,
/// `AgentStopped` among them, leave before the agent exits; what remains stays spooled for next time.
public final class Shipper: Service {
    private let spool: Spool
    /// Where dead-lettered batches marked for replay go back in (source `dead-letter`).
    private let replay: SourceContext
    private let transport: Transport
    private let url: String
    private let maxRecords: Int
    private let maxAge: Duration
    private let maxBytes: Int
    private let threadPool: NIOThreadPool
    private let logger: Logger
    /// Its last delivery, failures and request durations, for health and metrics.
    let state: ShipperState
    /// How long shutdown waits for the queue to empty. Default: 5 s.
    let drainTimeout: Duration

    /// Sends one gzip body of records to the collector and returns its answer, blocking (it runs
    /// on the thread pool): libcurl's ``HTTPSClient`` in the agent, a fake in unit tests.
    ///
    /// - Throws: When no HTTP answer came (connection, TLS, timeout): the batch is retried.
    typealias Transport = @Sendable (_ body: Data) throws -> HTTPSClient.Response

    /// The agent's shipper: mTLS HTTPS to `configuration.collectorURL` + `/v1/records`.
    convenience init(
        spool: Spool, replay: SourceContext, configuration: AgentConfiguration, state: ShipperState, threadPool: NIOThreadPool = .singleton,
        logger: Logger
    ) throws {
        let client = try HTTPSClient(
            configuration: .init(
                caFile: configuration.caFile, certificateFile: configuration.certificateFile, keyFile: configuration.keyFile,
                proxy: configuration.proxy, connectTimeout: configuration.connectTimeout, totalTimeout: configuration.requestTimeout))
        let url = configuration.collectorURL + "/v1/records"
        let headers = ["Content-Type: application/json", "Content-Encoding: gzip", "User-Agent: hosttrail-agent/\(HostTrailVersion.current)"]
        self.init(
            spool: spool, replay: replay, url: url, transport: { try client.post(url: url, headers: headers, body: $0) },
            maxRecords: configuration.batchMaxRecords, maxAge: configuration.batchMaxAge, maxBytes: configuration.batchMaxBytes,
            state: state, threadPool: threadPool, logger: logger)
    }

    init(
        spool: Spool, replay: SourceContext, url: String, transport: @escaping Transport, maxRecords: Int, maxAge: Duration, maxBytes: Int,
        state: ShipperState = ShipperState(), threadPool: NIOThreadPool = .singleton, logger: Logger, drainTimeout: Duration = .seconds(5)
    ) {
        self.state = state
        self.spool = spool
        self.replay = replay
        self.url = url
        self.transport = transport
        self.maxRecords = maxRecords
        self.maxAge = maxAge
        self.maxBytes = maxBytes
        self.threadPool = threadPool
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        var backoff = RetryBackoff()
        var refused: PreparedBody?
        var lastWarning: ContinuousClock.Instant?
        var drainDeadline: ContinuousClock.Instant?
        var replaysLookedAt = ContinuousClock.now - Self.replayInterval
        while true {
            if Task.isCancelled { return }
            if drainDeadline == nil && Task.isShuttingDownGracefully {
                drainDeadline = .now + drainTimeout
            }
            if let drainDeadline, ContinuousClock.now >= drainDeadline {
                logger.notice(
                    "stopping with records still spooled; they ship on the next start", metadata: ["spool.records": "\(spool.pendingRecords)"])
                return
            }
            let next: Spool.Batch?
            do {
                next = try await onThreadPool { [maxRecords, maxBytes] spool in try spool.oldest(maxRecords: maxRecords, maxBytes: maxBytes) }
            } catch {
                logger.error("cannot read the spool", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard let batch = next else {
                if drainDeadline != nil { return }
                // Idle: dead-letter batches an operator marked for replay go back in the spool.
                if ContinuousClock.now - replaysLookedAt >= Self.replayInterval {
                    replaysLookedAt = .now
                    do {
                        let requeued = try await DeadLetters(spoolDirectory: spool.configuration.directory).replay(into: replay)
                        if requeued > 0 { logger.notice("dead-lettered records replayed", metadata: ["spool.replayed": "\(requeued)"]) }
                    } catch {
                        logger.error("cannot replay dead-lettered records", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: maxAge)
                continue
            }
            let outcome = await ship(batch, reusing: &refused)
            switch outcome {
            case .delivered:
                backoff.succeeded()
            case .retry(let retryAfter, let reason):
                let delay = backoff.failed(retryAfter: retryAfter, randomFraction: Double.random(in: 0..<1))
                if lastWarning.map({ ContinuousClock.now - $0 > .seconds(30) }) ?? true {
                    logger.warning(
                        "collector unavailable; retrying", metadata: ["upload.url": "\(url)", "error": "\(reason)", "retry.delay": "\(delay)"])
                    lastWarning = .now
                }
                if drainDeadline != nil { return }  // no retries while stopping: the records stay spooled
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Runs `work` (the spool's reads, state fsyncs, dead-letter writes) on the thread pool: never
    /// on the cooperative pool, whose threads other tasks' progress depends on.
    private func onThreadPool<Result: Sendable>(_ work: @escaping @Sendable (Spool) throws -> Result) async throws -> Result {
        let spool = self.spool
        return try await threadPool.runIfActive { try work(spool) }
    }

    /// How often an idle shipper looks for dead-letter batches marked for replay.
    static let replayInterval: Duration = .seconds(2)

    enum Outcome {
        case delivered
        case retry(after: Duration?, reason: String)
    }

    /// The records a `400 InvalidRecords` names (`refused: [{index, message}]`), by index, with
    /// their reasons; empty when the answer names none this batch has.
    static func refusedRecords(_ body: Data, count: Int) -> [Int: String] {
        guard let answer = try? JSONValue.parse(body), let list = answer["refused"]?.arrayValue else { return [:] }
        var refused: [Int: String] = [:]
        for entry in list {
            guard let index = entry["index"]?.integerValue.map(Int.init), (0..<count).contains(index) else { return [:] }
            refused[index] = "\(entry["code"]?.stringValue ?? "Refused"): \(entry["message"]?.stringValue ?? "refused by the collector")"
        }
        return refused
    }

    /// The request body of a batch that is to be sent again: while the collector is unreachable
    /// every retry sends the same records, which are not encoded and compressed again each time.
    struct PreparedBody {
        var first: SpoolPosition?
        var end: SpoolPosition
        var count: Int
        var payload: Data

        func isBody(of batch: Spool.Batch) -> Bool {
            first == batch.positions.first && end == batch.end && count == batch.records.count
        }
    }

    /// Ships `batch` as one request, splitting on 413 and dead-lettering what is refused for good.
    /// `prepared` is the body kept from a refused attempt; it is set when this one is to be retried.
    func ship(_ batch: Spool.Batch, reusing prepared: inout PreparedBody?) async -> Outcome {
        let records = batch.records
        let response: HTTPSClient.Response
        let kept = prepared.flatMap { $0.isBody(of: batch) ? $0 : nil }
        prepared = nil
        do {
            let payload: Data
            if let kept {
                payload = kept.payload
            } else {
                var body = ByteBuffer(bytes: RecordBatch.encode(canonicalRecords: records))
                // Level 1: gzip -6 cannot keep up with a busy spool on one core (bench/baselines).
                let compressed = try body.compress(
                    with: CompressionAlgorithm.gzip(configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 1)))
                payload = Data(compressed.readableBytesView)
            }
            prepared = PreparedBody(first: batch.positions.first, end: batch.end, count: records.count, payload: payload)
            let transport = self.transport
            let started = ContinuousClock.now
            do {
                response = try await threadPool.runIfActive { try transport(payload) }
            } catch {
                state.requestFailed(after: .now - started, reason: "\(error)")
                throw error
            }
            if case .retry = RetryBackoff.disposition(forStatus: response.status) {
                state.requestFailed(after: .now - started, reason: "HTTP \(response.status)")
            } else {
                state.requestDelivered(after: .now - started)
            }
        } catch {
            return .retry(after: nil, reason: "\(error)")  // `prepared` is kept for the retry
        }
        spool.noteShipped(batch)
        let disposition = RetryBackoff.disposition(forStatus: response.status)
        if case .retry = disposition {} else { prepared = nil }
        switch disposition {
        case .delivered:
            let result = try? JSONDecoder().decode(IngestResult.self, from: response.body)
            do {
                let duplicates = result?.duplicates ?? 0
                try await onThreadPool { spool in try spool.acknowledge(batch, duplicates: duplicates) }
            } catch {
                logger.error("cannot acknowledge shipped records in the spool", metadata: ["error": "\(error)"])
            }
            logger.debug("shipped", metadata: ["upload.records": "\(records.count)", "upload.duplicates": "\(result?.duplicates ?? 0)"])
            return .delivered
        case .retry:
            return .retry(
                after: RetryBackoff.parseRetryAfter(response.headers["retry-after"]),
                reason: "HTTP \(response.status): \(response.bodyText.prefix(300))")
        case .split where batch.records.count > 1:
            let half = batch.records.count / 2
            var none: PreparedBody?
            if case .retry(let after, let reason) = await ship(batch.slice(0..<half), reusing: &none) { return .retry(after: after, reason: reason) }
            return await ship(batch.slice(half..<batch.records.count), reusing: &none)
        case .reject where response.status == 400:
            // The collector names the records it cannot store: those alone are set aside, each
            // with its own reason, and the rest of the batch is sent again.
            let refused = Self.refusedRecords(response.body, count: records.count)
            guard !refused.isEmpty, refused.count < records.count else { fallthrough }
            logger.error(
                "the collector refused some records of a batch; moving those to the dead-letter directory and sending the rest",
                metadata: ["upload.records": "\(records.count)", "upload.refused": "\(refused.count)"])
            var start = 0
            for index in 0...records.count {
                guard index == records.count || refused[index] != nil else { continue }
                if start < index {
                    var none: PreparedBody?
                    if case .retry(let after, let reason) = await ship(batch.slice(start..<index), reusing: &none) {
                        return .retry(after: after, reason: reason)
                    }
                }
                if index < records.count, let reason = refused[index] {
                    do {
                        let refused = batch.slice(index..<(index + 1))
                        try await onThreadPool { spool in try spool.deadLetter(refused, reason: "HTTP 400: \(reason)") }
                    } catch {
                        logger.error("cannot move a refused record to the dead-letter directory", metadata: ["error": "\(error)"])
                        return .retry(after: .seconds(5), reason: reason)
                    }
                }
                start = index + 1
            }
            return .delivered
        case .split, .reject:
            let reason = "HTTP \(response.status): \(response.bodyText.prefix(1000))"
            logger.error(
                "the collector refused records; moved to the dead-letter directory",
                metadata: ["upload.records": "\(records.count)", "error": "\(reason)"])
            do {
                try await onThreadPool { spool in try spool.deadLetter(batch, reason: reason) }
            } catch {
                logger.error("cannot move refused records to the dead-letter directory", metadata: ["error": "\(error)"])
                return .retry(after: .seconds(5), reason: reason)
            }
            return .delivered
        }
    }
}
