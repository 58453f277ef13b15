// SPDX-License-Identifier: Apache-2.0

/// A token bucket: `rate` tokens a second up to `capacity`; what a per-uid rate limit spends events from.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let capacity: Double
    public private(set) var tokens: Double
    /// Seconds on a monotonic clock at the last update.
    private var updated: Double

    /// A full bucket.
    public init(rate: Double, capacity: Double, now: Double) {
        precondition(rate > 0 && capacity >= 1)
        self.rate = rate
        self.capacity = capacity
        tokens = capacity
        updated = now
    }

    /// Takes `count` tokens when the bucket holds them and returns `nil`; otherwise takes nothing
    /// and returns the seconds until it will. A request larger than the whole bucket costs the
    /// whole bucket, so it can pass once the bucket is full rather than never.
    public mutating func take(_ count: Int, now: Double) -> Double? {
        if now > updated {
            tokens = min(capacity, tokens + (now - updated) * rate)
            updated = now
        }
        let cost = min(Double(count), capacity)
        guard tokens >= cost else { return (cost - tokens) / rate }
        tokens -= cost
        return nil
    }

    /// Whether the bucket would be full at `now` (an idle client's bucket can be forgotten).
    public func isFull(now: Double) -> Bool {
        tokens + max(0, now - updated) * rate >= capacity
    }
}
