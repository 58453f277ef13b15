// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Durations as rule files write them: `30s`, `10m`, `1h`, `7d`, `1w` (Sigma's `timespan` units and
/// a week), or a number of seconds.
public enum RuleDuration {
    static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Milliseconds, or `nil` when `value` is not a positive duration.
    public static func milliseconds(_ value: JSONValue) -> Int64? {
        switch value {
        case .integer(let seconds) where seconds > 0 && seconds <= 366 * 86_400: return seconds * 1000
        case .string(let text):
            guard let unit = text.last, let scale = units[unit], let count = Int64(text.dropLast()), count > 0, count * scale <= 366 * 86_400
            else { return nil }
            return count * scale * 1000
        default: return nil
        }
    }

    public static func format(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        for (unit, scale) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60)] where seconds % scale == 0 {
            return "\(seconds / scale)\(unit)"
        }
        return "\(seconds)s"
    }
}
