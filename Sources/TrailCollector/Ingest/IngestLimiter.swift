// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Caps the ingest requests the collector works on at once; past the cap it answers `503` with
/// `Retry-After` rather than queueing without bound (agents back off and retry).
final class IngestLimiter: Sendable {
    let limit: Int
    private let active = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot, or returns `false` when all are taken.
    func enter() -> Bool {
        active.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        active.withLock { $0 -= 1 }
    }
}
