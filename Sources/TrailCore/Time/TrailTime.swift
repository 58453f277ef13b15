// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Time as records and the CloudTrail API write it, without `DateFormatter` or a calendar.
///
/// Records carry `eventTime` in UTC at second precision (`2026-11-24T16:30:30Z`). Inputs accept
/// ISO 8601 with or without fractional seconds, with `Z` or an offset, a space instead of `T`,
/// a bare date, epoch seconds, or a time relative to now (`90s`, `15m`, `1h`, `7d`, `2w`).
public enum TrailTime {
    /// `2026-11-24T16:30:30Z` for `date` (fractions of a second are dropped, as CloudTrail does).
    public static func format(_ date: Date) -> String {
        formatEpochSeconds(Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    /// `2026-11-24T16:30:30Z` for seconds since the epoch.
    public static func formatEpochSeconds(_ seconds: Int64) -> String {
        String(unsafeUninitializedCapacity: formattedLength) { write(epochSeconds: seconds, into: $0) }
    }

    /// The bytes of ``format(_:)`` appended to `out` (a record being written: no string per record).
    public static func appendFormatted(_ date: Date, to out: inout [UInt8]) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: formattedLength) { text in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<write(epochSeconds: seconds, into: text)]))
        }
    }

    static let formattedLength = 20

    /// Writes `YYYY-MM-DDTHH:MM:SSZ` into `text` (at least ``formattedLength`` bytes); returns its length.
    private static func write(epochSeconds unclamped: Int64, into text: UnsafeMutableBufferPointer<UInt8>) -> Int {
        // Years 0001-9999 only: the text has room for four digits, and a value from outside (a
        // host's acknowledgement) must not overflow the arithmetic below.
        let seconds = min(max(unclamped, -62_135_596_800), 253_402_300_799)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var next = 0
        func append(_ byte: UInt8) {
            text[next] = byte
            next += 1
        }
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var remaining = max(0, value)
            while divisor > 0 {
                append(UInt8(ascii: "0") + UInt8((remaining / divisor) % 10))
                remaining %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); append(UInt8(ascii: "-")); digits(month, 2); append(UInt8(ascii: "-")); digits(day, 2); append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); append(UInt8(ascii: ":")); digits(secondOfDay % 3600 / 60, 2); append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2); append(UInt8(ascii: "Z"))
        return next
    }

    /// Parses an ISO 8601 timestamp; `nil` when `text` is not one.
    public static func parseISO8601(_ text: some StringProtocol) -> Date? {
        // Read in place where the text is contiguous (a slice of a log line: no copy).
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ parseISO8601(bytes: $0) }) { return parsed }
        return Array(text.utf8).withUnsafeBufferPointer { parseISO8601(bytes: $0) }
    }

    /// The reading position in a timestamp's bytes. A struct with mutating methods, not nested
    /// functions over a captured `var`: a captured variable is checked for exclusive access at
    /// run time on every use, some 14 checks a line on the tail path.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var current: UInt8? { atEnd ? nil : bytes[position] }

        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<(position + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            position += count
            return value
        }

        mutating func expect(_ character: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == character else { return false }
            position += 1
            return true
        }
    }

    static func parseISO8601(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var cursor = Cursor(bytes: bytes)
        guard let year = cursor.digits(4), cursor.expect(45), let month = cursor.digits(2), cursor.expect(45), let day = cursor.digits(2) else {
            return nil
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        var offsetSeconds = 0
        if !cursor.atEnd {
            guard cursor.expect(84) || cursor.expect(116) || cursor.expect(32),  // T, t or space
                let parsedHour = cursor.digits(2), cursor.expect(58), let parsedMinute = cursor.digits(2)
            else { return nil }
            hour = parsedHour
            minute = parsedMinute
            if cursor.expect(58) {
                guard let parsedSecond = cursor.digits(2) else { return nil }
                second = parsedSecond
                if cursor.expect(46) || cursor.expect(44) {
                    let start = cursor.position
                    var scale = 0.1
                    while let byte = cursor.current, byte >= 48, byte <= 57 {
                        fraction += Double(byte - 48) * scale
                        scale /= 10
                        cursor.position += 1
                    }
                    guard cursor.position > start else { return nil }
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
            if cursor.expect(90) || cursor.expect(122) {  // Z or z
            } else if let sign = cursor.current, sign == 43 || sign == 45 {
                cursor.position += 1
                guard let offsetHours = cursor.digits(2) else { return nil }
                _ = cursor.expect(58)
                guard let offsetMinutes = cursor.digits(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
                offsetSeconds = (sign == 45 ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60)
            } else {
                return nil  // a time without a zone is ambiguous
            }
        }
        guard cursor.atEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        // Year 0000, or an offset that carries 9999-12-31 into year 10000: no record can say it.
        guard representableEpochSeconds.contains(Double(seconds)) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Parses a time given on a command line or in an API call: ISO 8601, epoch seconds, or a
    /// duration before `now` (`90s`, `15m`, `1h`, `7d`, `2w`).
    public static func parse(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingWhitespace()
        if let duration = parseDuration(trimmed) {
            return now.addingTimeInterval(-duration)
        }
        if let epoch = Double(trimmed), trimmed.allSatisfy({ $0.isNumber || $0 == "." }) {
            return isRepresentable(epochSeconds: epoch) ? Date(timeIntervalSince1970: epoch) : nil
        }
        return parseISO8601(trimmed)
    }

    /// Years 0001 to 9999: what ISO 8601 writes with four digits, and far inside `Int64` milliseconds.
    public static let representableEpochSeconds: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    /// Whether `seconds` since the epoch falls in ``representableEpochSeconds`` (and is a number at all).
    public static func isRepresentable(epochSeconds seconds: Double) -> Bool {
        seconds.isFinite && representableEpochSeconds.contains(seconds)
    }

    /// `90s`, `15m`, `1h`, `7d`, `2w` as seconds; `nil` for anything else.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        // Bounded so that `now - duration` stays a representable time.
        guard let unit = text.last, let amount = Int(text.dropLast()), (0...1_000_000_000).contains(amount) else { return nil }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        case "w": multiplier = 604_800
        default: return nil
        }
        return TimeInterval(amount * multiplier)
    }

    // MARK: - Civil calendar (Howard Hinnant's days_from_civil / civil_from_days)

    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
