// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// One line of a syslog file such as `/var/log/auth.log`, split into its parts.
///
/// Two timestamp forms are read: RFC 3339 (`2026-11-24T16:30:30.862366+00:00`, Debian 12's rsyslog
/// default) and the traditional `Nov 24 16:30:53`, which has neither year nor zone: the year is
/// inferred from a reference time (a line more than a day in its future belongs to the year before,
/// as at New Year) and the zone is the host's, passed in as an offset.
public struct SyslogLine: Sendable, Hashable {
    public var time: Date
    public var hostname: String
    /// The tag before the colon: `sshd`, `sudo`, `useradd`.
    public var identifier: String
    public var pid: Int?
    public var message: String

    public init(time: Date, hostname: String, identifier: String, pid: Int?, message: String) {
        self.time = time
        self.hostname = hostname
        self.identifier = identifier
        self.pid = pid
        self.message = message
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Parses `line` (without its newline); `nil` when it is not a syslog line.
    ///
    /// - Parameters:
    ///   - reference: The time the line is read, for the year of traditional timestamps.
    ///   - utcOffsetSeconds: The host's offset from UTC, for traditional timestamps.
    public static func parse(_ line: Substring, reference: Date, utcOffsetSeconds: Int) -> SyslogLine? {
        LogText.with(line) { text in
            Parts(text, reference: reference, utcOffsetSeconds: utcOffsetSeconds).map { parts in
                SyslogLine(
                    time: parts.time, hostname: parts.hostname.string, identifier: parts.identifier.string, pid: parts.pid,
                    message: parts.message.string)
            }
        }
    }

    /// A line's parts as views of its bytes: the tailer copies only what a record keeps.
    ///
    /// The separators are ASCII bytes and are stepped over by byte, never by `Character` (a
    /// combining mark after a space belongs to the next part).
    struct Parts {
        var time: Date
        var hostname: LogText
        var identifier: LogText
        var pid: Int?
        var message: LogText

        init?(_ line: LogText, reference: Date, utcOffsetSeconds: Int) {
            var rest = line
            if let first = rest.first, first >= 48, first <= 57 {
                guard let space = rest.firstIndex(of: 32), let parsed = rest.prefix(upTo: space).withBytes(TrailTime.parseISO8601(bytes:))
                else { return nil }
                time = parsed
                rest = rest.suffix(from: space + 1)
            } else {
                guard rest.count >= 16,
                    let parsed = rest.prefix(upTo: 16).withBytes({
                        SyslogLine.parseTraditional(bytes: $0, reference: reference, utcOffsetSeconds: utcOffsetSeconds)
                    })
                else { return nil }
                time = parsed
                rest = rest.suffix(from: 16)
            }
            guard let hostEnd = rest.firstIndex(of: 32) else { return nil }
            hostname = rest.prefix(upTo: hostEnd)
            rest = rest.suffix(from: hostEnd + 1)
            // The tag ends at ": "; a pid in brackets may close it.
            guard let colon = rest.firstIndex(of: 58) else { return nil }
            var tag = rest.prefix(upTo: colon)
            message = rest.suffix(from: colon + 1)
            // One space byte (not a Character, which a combining mark would extend).
            if message.first == 32 { message = message.dropFirst(1) }
            pid = nil
            if tag.last == 93, let open = tag.lastIndex(of: 91) {
                pid = tag[(open + 1)..<(tag.count - 1)].integer
                tag = tag.prefix(upTo: open)
            }
            guard !tag.isEmpty, !tag.contains(byte: 32) else { return nil }
            identifier = tag
        }
    }

    /// The time in the first 16 bytes of a traditional line (`Nov 24 16:30:53 `); `nil` when they are not one.
    static func parseTraditional(bytes: UnsafeBufferPointer<UInt8>, reference: Date, utcOffsetSeconds: Int) -> Date? {
        guard bytes.count >= 16, bytes[3] == 32 else { return nil }
        guard let month = months.firstIndex(where: { $0.utf8.elementsEqual(bytes[0..<3]) }) else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            var seen = false
            for byte in bytes[range] {
                if byte == 32 && !seen { continue }
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                seen = true
            }
            return seen ? value : nil
        }
        guard let day = number(4..<6), bytes[6] == 32, let hour = number(7..<9), bytes[9] == 58, let minute = number(10..<12),
            bytes[12] == 58, let second = number(13..<15), bytes[15] == 32, (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let referenceYear = TrailTime.civilDate(
            daysSinceEpoch: Int64((reference.timeIntervalSince1970 + Double(utcOffsetSeconds)) / 86_400)
        ).year
        func date(year: Int64) -> Date {
            let days = TrailTime.daysSinceEpoch(year: Int(year), month: month + 1, day: day)
            return Date(timeIntervalSince1970: Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(utcOffsetSeconds)))
        }
        var time = date(year: referenceYear)
        if time.timeIntervalSince(reference) > 86_400 { time = date(year: referenceYear - 1) }
        return time
    }
}
