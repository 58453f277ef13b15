// SPDX-License-Identifier: Apache-2.0

import Dispatch
import FoundationEssentials
import Logging
import Synchronization

/// One source's way into the sink: its name (its checkpoint's key and its readiness line), the
/// checkpoint it resumes from, its counters, and its commits.
///
/// Back-pressure lives here, once. ``commit(_:checkpoint:)`` (for a source on the cooperative
/// pool) and ``wait(for:stopping:)`` (for one on a thread of its own) submit again every
/// ``retryInterval`` while the sink refuses, full under the `block` policy or failing: the
/// records wait in their source, nothing is skipped. ``offer(_:checkpoint:completion:)`` and
/// ``commitOnce(_:checkpoint:)`` try once, for a source whose client retries (the socket answers
/// 503) or that must not wait on the sink (the shipper's dead-letter replay).
final class SourceContext: Sendable {
    let name: String
    private let sink: any RecordSink
    private let readiness: SourceReadiness?
    private let logger: Logger
    let retryInterval: Duration
    private let committedRecords = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)
    private let readItems = Atomic<Int>(0)

    /// - Parameter readiness: Where the source says it has taken its place; `nil` for a source
    ///   `READY=1` does not wait for (the agent's own records).
    init(name: String, sink: any RecordSink, readiness: SourceReadiness?, logger: Logger, retryInterval: Duration = .seconds(1)) {
        self.name = name
        self.sink = sink
        self.readiness = readiness
        self.logger = logger
        self.retryInterval = retryInterval
        readiness?.register(name)
    }

    /// The source's last committed checkpoint when the sink was opened: where it resumes.
    var savedCheckpoint: String? { sink.checkpoints[name] }

    /// The source stands at its position: what is written from now on is read.
    func markReady() {
        readiness?.mark(name, .ready)
    }

    /// The source cannot start; it keeps trying, and readiness does not wait for it.
    func markFailed(_ reason: String) {
        readiness?.mark(name, .failed, detail: reason)
    }

    struct Counters: Sendable, Hashable {
        /// Lines (files) or entries (the journal) read, whether they made a record or not.
        var read: Int
        /// Records committed.
        var records: Int
        /// Submissions the sink refused (full or failing) and that were or will be retried.
        var refusals: Int
    }

    var counters: Counters {
        Counters(
            read: readItems.load(ordering: .relaxed), records: committedRecords.load(ordering: .relaxed),
            refusals: refusals.load(ordering: .relaxed))
    }

    /// `count` more lines or entries read (once a chunk, not a line: an atomic add each).
    func countRead(_ count: Int) {
        if count > 0 { readItems.add(count, ordering: .relaxed) }
    }

    // MARK: - Committing

    /// Submits once; `completion` as ``RecordSink/submit(_:checkpoint:completion:)``.
    func offer(_ batch: SourceBatch, checkpoint: String? = nil, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        let count = batch.count
        sink.submit(batch, checkpoint: checkpoint.map { (name, $0) }) { [self] result in
            record(result, records: count)
            completion(result)
        }
    }

    /// Commits `batch` with `checkpoint`, submitting again while the sink refuses it.
    ///
    /// - Throws: `CancellationError` when the task is cancelled before the batch is committed.
    func commit(_ batch: SourceBatch, checkpoint: String? = nil) async throws {
        while (try? await commitOnce(batch, checkpoint: checkpoint)) == nil {
            try await Task.sleep(for: retryInterval)
        }
    }

    /// Submits once and waits for the answer.
    ///
    /// - Throws: Why the sink refused the batch.
    func commitOnce(_ batch: SourceBatch, checkpoint: String? = nil) async throws {
        let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
            offer(batch, checkpoint: checkpoint) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// A batch submitted and not yet known to be committed: a source on a thread of its own reads
    /// on while it is written, and waits for it before the next (``wait(for:stopping:)``).
    final class PendingCommit: @unchecked Sendable {
        // @unchecked: `outcome` is written once, before `done` is signalled, and read after.
        let batch: SourceBatch
        let checkpoint: String?
        private let done = DispatchSemaphore(value: 0)
        private var outcome: Result<Void, any Error> = .success(())

        fileprivate init(batch: SourceBatch, checkpoint: String?) {
            self.batch = batch
            self.checkpoint = checkpoint
        }

        fileprivate func complete(_ result: Result<Void, any Error>) {
            outcome = result
            done.signal()
        }

        /// Blocks until the sink has answered.
        func result() -> Result<Void, any Error> {
            done.wait()
            return outcome
        }
    }

    /// Submits `batch` without waiting (for a source on a thread of its own).
    func start(_ batch: SourceBatch, checkpoint: String? = nil) -> PendingCommit {
        let pending = PendingCommit(batch: batch, checkpoint: checkpoint)
        offer(batch, checkpoint: checkpoint) { pending.complete($0) }
        return pending
    }

    /// Blocks until `pending` is committed, submitting it again every ``retryInterval`` while the
    /// sink refuses it. `false` when `stopping()` said so first (nothing of it committed).
    func wait(for pending: PendingCommit, stopping: () -> Bool) -> Bool {
        var current = pending
        while true {
            if case .success = current.result() { return true }
            if stopping() { return false }
            DedicatedThread.sleep(for: retryInterval)
            current = start(current.batch, checkpoint: current.checkpoint)
        }
    }

    private func record(_ result: Result<Void, any Error>, records: Int) {
        switch result {
        case .success:
            committedRecords.add(records, ordering: .relaxed)
        case .failure(let error):
            refusals.add(1, ordering: .relaxed)
            // A full spool under `block` is the policy working, not a fault: the records wait.
            if !(error is RecordSinkFull) { logger.error("cannot spool records", metadata: ["source": "\(name)", "error": "\(error)"]) }
        }
    }
}
