// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// When the current boot started (`btime` in `/proc/stat`).
enum BootTime {
    static func current() -> Date? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            if let seconds = Double(line.dropFirst(6).trimmingWhitespace()) { return Date(timeIntervalSince1970: seconds) }
        }
        return nil
    }
}
