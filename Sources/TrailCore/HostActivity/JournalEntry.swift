// SPDX-License-Identifier: Apache-2.0

/// The fields of one journald entry that a record needs, as the reader took them from libsystemd.
///
/// Field names follow systemd.journal-fields(7); `nil` when the entry does not carry the field.
public struct JournalEntry: Sendable, Hashable {
    /// `__CURSOR`: the entry's stable position, also the base of its event ID.
    public var cursor: String
    /// `__REALTIME_TIMESTAMP`: when journald received the entry, µs since the epoch.
    public var realtimeMicroseconds: UInt64
    /// `_SOURCE_REALTIME_TIMESTAMP`: when the logging process says it logged, µs since the epoch.
    public var sourceRealtimeMicroseconds: UInt64?
    /// `SYSLOG_IDENTIFIER`, or `_COMM` when the entry has none.
    public var identifier: String
    public var message: String
    /// `_PID` (journald's), or `SYSLOG_PID` (the logger's own claim) when the entry has no `_PID`.
    public var pid: Int?
    /// `_SYSTEMD_UNIT` (the unit the logging process ran in) or, for systemd's own messages, `UNIT`
    /// (the unit the message is about).
    public var unit: String?
    public var bootID: String?
    /// `_TRANSPORT`: `syslog`, `journal`, `stdout`, `kernel`, …
    public var transport: String?
    /// Who logged it, as journald saw the process.
    public var sender: JournalSender

    public init(
        cursor: String, realtimeMicroseconds: UInt64, sourceRealtimeMicroseconds: UInt64? = nil, identifier: String, message: String,
        pid: Int? = nil, unit: String? = nil, bootID: String? = nil, transport: String? = nil, sender: JournalSender = JournalSender()
    ) {
        self.cursor = cursor
        self.realtimeMicroseconds = realtimeMicroseconds
        self.sourceRealtimeMicroseconds = sourceRealtimeMicroseconds
        self.identifier = identifier
        self.message = message
        self.pid = pid
        self.unit = unit
        self.bootID = bootID
        self.transport = transport
        self.sender = sender
    }

    /// When the activity happened: the process's own timestamp when it sent one, else journald's.
    public var time: Double {
        Double(sourceRealtimeMicroseconds ?? realtimeMicroseconds) / 1_000_000
    }

    /// The realtime (µs since the epoch) a cursor string names (`t=` in hex), for saying where a
    /// gap began; `nil` when the cursor has none.
    public static func realtimeMicroseconds(ofCursor cursor: String) -> UInt64? {
        for part in cursor.split(separator: ";") where part.hasPrefix("t=") {
            return UInt64(part.dropFirst(2), radix: 16)
        }
        return nil
    }
}
