// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Exponential backoff with full jitter, honouring a server's `Retry-After`.
///
/// Pure: the caller supplies the random fraction, so tests are deterministic.
public struct RetryBackoff: Sendable, Hashable {
    /// The first delay's upper bound. Default: 250 ms.
    public var base: Duration
    /// The largest delay. Default: 30 s.
    public var cap: Duration
    /// Failures since the last success.
    public private(set) var failures = 0

    /// - Parameter failures: Failures so far (a durable job's attempts, after a restart).
    public init(base: Duration = .milliseconds(250), cap: Duration = .seconds(30), failures: Int = 0) {
        self.base = base
        self.cap = cap
        self.failures = failures
    }

    /// Records a failure and returns how long to wait before the next attempt.
    ///
    /// - Parameters:
    ///   - retryAfter: The server's `Retry-After`, which wins when it is longer than the jittered delay.
    ///   - randomFraction: A number in `0..<1` (full jitter: the delay is uniform in 0...bound).
    public mutating func failed(retryAfter: Duration? = nil, randomFraction: Double) -> Duration {
        failures += 1
        let exponent = min(failures - 1, 30)
        let bound = min(cap, base * Double(1 << exponent))
        var delay = bound * min(max(randomFraction, 0), 1)
        if let retryAfter { delay = max(delay, min(retryAfter, cap * 4)) }
        return delay
    }

    /// Records a success: the next failure starts from ``base`` again.
    public mutating func succeeded() {
        failures = 0
    }

    /// How a response status is handled by a sender of record batches.
    public enum Disposition: Sendable, Hashable {
        case delivered
        case retry
        case split
        case reject
    }

    /// 200 delivered; 408, 429 and 5xx retried; 413 split; any other status rejected (dead letter).
    public static func disposition(forStatus status: Int) -> Disposition {
        switch status {
        case 200...299: .delivered
        case 408, 429, 500...599: .retry
        case 413: .split
        default: .reject
        }
    }

    /// Parses `Retry-After` given in seconds (the HTTP-date form is not used by HostTrail's collector).
    public static func parseRetryAfter(_ value: String?) -> Duration? {
        guard let value, let seconds = Int(value.trimming(charactersIn: " \t")), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}
