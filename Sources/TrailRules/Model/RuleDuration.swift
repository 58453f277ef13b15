// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Durations as rule files write them: `30s`, `10m`, `1h`, `7d`, `1w` (``TrailTime/parseDuration(_:)``,
/// as every other HostTrail setting), or a number of seconds; at most a year.
public enum RuleDuration {
    static let maxSeconds: Int64 = 366 * 86_400

    /// Milliseconds, or `nil` when `value` is not a duration from 1 s to a year.
    public static func milliseconds(_ value: JSONValue) -> Int64? {
        let seconds: Int64
        switch value {
        case .integer(let number): seconds = number
        case .string(let text):
            guard let parsed = TrailTime.parseDuration(text) else { return nil }
            seconds = Int64(parsed)
        default: return nil
        }
        return (1...maxSeconds).contains(seconds) ? seconds * 1000 : nil
    }

    public static func format(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        for (unit, scale) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60)] where seconds % scale == 0 {
            return "\(seconds / scale)\(unit)"
        }
        return "\(seconds)s"
    }
}
