// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Seeded noise for generated traces (the detector's tests, `hosttrail-insights-bench`): the same
/// trace every run.
public struct SeededNoise: Sendable {
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// SplitMix64, as a fraction in [0, 1).
    public mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }

    /// A Poisson count: Knuth's method for small means, a rounded normal for large ones.
    public mutating func poisson(_ mean: Double) -> Int {
        if mean > 30 {
            let u = max(next(), 1e-12)
            let v = next()
            let normal = sqrt(-2 * log(u)) * cos(2 * .pi * v)
            return max(0, Int((mean + normal * sqrt(mean)).rounded()))
        }
        var count = 0
        var product = next()
        let limit = exp(-mean)
        while product > limit {
            count += 1
            product *= next()
        }
        return count
    }
}

/// A working week: busier from 08:00 to 18:00 UTC than at night, half as busy at weekends.
public enum WorkingWeek {
    /// Monday 2026-11-23 00:00 UTC, in minutes since the epoch.
    public static let monday: Int64 = 29_923_200

    /// The rate of `minute`: `day` in working hours, `night` otherwise, halved on Saturday and Sunday.
    public static func rate(at minute: Int64, day: Double, night: Double) -> Double {
        let hour = (minute / 60) % 24
        let weekday = ((minute / 1440) + 3) % 7  // 0 = Monday
        return (hour >= 8 && hour < 18 ? day : night) * (weekday >= 5 ? 0.5 : 1)
    }
}
