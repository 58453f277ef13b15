// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Synchronization

@testable import TrailAgent

/// The spool's tests write records one call at a time; the agent's sources go through
/// ``SourceContext`` instead.
extension Spool {
    func append(
        _ records: [Data], checkpoint: (source: String, position: String)? = nil,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        submit(SourceBatch(records), checkpoint: checkpoint, completion: completion)
    }

    /// Appends and waits for the commit.
    func append(_ records: [Data], checkpoint: (source: String, position: String)? = nil) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        append(records, checkpoint: checkpoint) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        try outcome.withLock { try $0.get() }
    }
}
