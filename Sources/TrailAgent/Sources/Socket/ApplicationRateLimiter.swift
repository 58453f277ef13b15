// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Synchronization
import TrailCore

/// Events per second per uid on the application socket (a token bucket each); root is not limited.
final class ApplicationRateLimiter: Sendable {
    private struct State {
        var rate: Double
        var burst: Double
        var buckets: [UInt32: TokenBucket] = [:]
    }

    private let state: Mutex<State>
    /// Above this many remembered uids, the full (idle) buckets are forgotten.
    static let rememberedUIDs = 4096

    /// `rate` 0 turns the limit off.
    init(rate: Double, burst: Double) {
        state = Mutex(State(rate: rate, burst: max(burst, 1)))
    }

    /// A reload's rate and burst; every uid starts again with a full bucket.
    func reconfigure(rate: Double, burst: Double) {
        state.withLock { $0 = State(rate: rate, burst: max(burst, 1)) }
    }

    /// `nil` when `uid` may send `events` now; otherwise the seconds to wait.
    func admit(uid: UInt32, events: Int, now: Double = ContinuousClock.now.secondsSinceReference) -> Double? {
        guard uid != 0 else { return nil }
        return state.withLock { state in
            guard state.rate > 0 else { return nil }
            if state.buckets.count > Self.rememberedUIDs { state.buckets = state.buckets.filter { !$0.value.isFull(now: now) } }
            return state.buckets[uid, default: TokenBucket(rate: state.rate, capacity: state.burst, now: now)].take(events, now: now)
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
