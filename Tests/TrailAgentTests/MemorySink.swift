// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import TrailCore

@testable import TrailAgent

/// A sink in memory, for testing a source without a spool: it keeps what is committed, and can be
/// told to refuse the next submissions as full.
final class MemorySink: RecordSink, Sendable {
    let checkpoints: [String: String]
    private let state = Mutex(State())

    struct State {
        var records: [Data] = []
        /// The latest committed checkpoint of each source.
        var latest: [String: String] = [:]
        var refuseNext = 0
        var refused = 0
    }

    init(checkpoints: [String: String] = [:]) {
        self.checkpoints = checkpoints
    }

    /// Refuses the next `count` submissions with ``RecordSinkFull``.
    func refuse(next count: Int) {
        state.withLock { $0.refuseNext = count }
    }

    func submit(
        _ batch: SourceBatch, checkpoint: (source: String, position: String)?,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        let result: Result<Void, any Error> = state.withLock { state in
            if state.refuseNext > 0 {
                state.refuseNext -= 1
                state.refused += 1
                return .failure(RecordSinkFull())
            }
            let entries = SpoolFrame.scan(batch.frames, from: 0).entries
            state.records += entries.filter { $0.kind == .record }.map { Data($0.payload) }
            if let checkpoint { state.latest[checkpoint.source] = checkpoint.position }
            return .success(())
        }
        completion(result)
    }

    var snapshot: State { state.withLock { $0 } }

    /// The records committed once there are at least `count`, or `nil` after `timeout` (long: the
    /// end-to-end suites running beside the unit tests can hold the cooperative pool for seconds).
    func waitForRecords(_ count: Int, timeout: Duration = .seconds(60)) async throws -> [Data]? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let records = snapshot.records
            if records.count >= count { return records }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}
