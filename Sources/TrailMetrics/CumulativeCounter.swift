// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Synchronization

/// A Prometheus counter that follows a running total kept elsewhere (the spool's `received`, a
/// source's records): each ``update(_:)`` adds what the total grew by since the last one.
///
/// The first update adds the whole total, so a counter restored from disk at start (the spool's)
/// is exposed as it is, not from zero. A total that goes down (a counter reset by its owner) is
/// taken as the new base and adds nothing: Prometheus counters only go up.
public final class CumulativeCounter: Sendable {
    private let counter: CoreMetrics.Counter
    private let last = Mutex<Int64>(0)

    init(_ counter: CoreMetrics.Counter) {
        self.counter = counter
    }

    public func update(_ total: Int) {
        let total = Int64(total)
        let delta = last.withLock { last in
            defer { last = total }
            return max(0, total - last)
        }
        if delta > 0 { counter.increment(by: delta) }
    }
}
