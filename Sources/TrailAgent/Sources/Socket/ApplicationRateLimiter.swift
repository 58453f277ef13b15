// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Synchronization
import TrailCore

/// Events per second per uid on the application socket (a token bucket each); root is not limited.
final class ApplicationRateLimiter: Sendable {
    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[UInt32: TokenBucket]>([:])
    /// Above this many remembered uids, the full (idle) buckets are forgotten.
    static let rememberedUIDs = 4096

    /// `rate` 0 turns the limit off.
    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(burst, 1)
    }

    /// `nil` when `uid` may send `events` now; otherwise the seconds to wait.
    func admit(uid: UInt32, events: Int, now: Double = ContinuousClock.now.secondsSinceReference) -> Double? {
        guard rate > 0, uid != 0 else { return nil }
        return buckets.withLock { buckets in
            if buckets.count > Self.rememberedUIDs { buckets = buckets.filter { !$0.value.isFull(now: now) } }
            return buckets[uid, default: TokenBucket(rate: rate, capacity: burst, now: now)].take(events, now: now)
        }
    }
}

extension ContinuousClock.Instant {
    /// Seconds since an arbitrary fixed point, as a `Double`.
    var secondsSinceReference: Double {
        let parts = (self - ContinuousClock.Instant.reference).components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    private static let reference = ContinuousClock.now
}
