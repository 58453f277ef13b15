// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Turns a journald entry into a record, through the same message parsers as auth.log lines, so
/// an activity reads the same whichever source saw it.
public struct JournalEntryConverter: Sendable {
    /// The checkpoint and event-ID source name of the journal.
    public static let source = "journal"

    public var builder: HostRecordBuilder
    public var selectors: EventSelectors
    private let lines: LogLineConverter

    public init(builder: HostRecordBuilder, selectors: EventSelectors = EventSelectors()) {
        self.builder = builder
        self.selectors = selectors
        lines = LogLineConverter(builder: builder, selectors: selectors)
    }

    /// The `SYSLOG_IDENTIFIER` values whose messages a parser understands: the reader pushes them
    /// into `sd_journal_add_match`, so journald skips every other entry without it being read.
    public static let parsedIdentifiers: [String] = AuthLogParser.identifiers

    /// What to record of an entry's message (after the event selectors), or why nothing; the
    /// reader asks before it reads the entry's cursor.
    public func activity(identifier: String, message: String, unit: String?) -> (HostActivity?, LogLineConverter.Outcome?) {
        lines.selected(AuthLogParser.parse(identifier: identifier, message: message), identifier: identifier, unit: unit)
    }

    /// The record of `activity`, found in `entry`.
    public func record(for activity: HostActivity, entry: JournalEntry) -> HostRecord {
        var details: [String: JSONValue] = ["cursor": .string(entry.cursor)]
        if let unit = entry.unit { details["unit"] = .string(unit) }
        if let bootID = entry.bootID { details["bootId"] = .string(bootID) }
        if let transport = entry.transport { details["transport"] = .string(transport) }
        let origin = HostRecordBuilder.Origin(source: Self.source, position: entry.cursor, details: details)
        return HostRecord(
            activity: activity, time: Date(timeIntervalSince1970: entry.time), process: (entry.identifier, entry.pid), message: entry.message,
            origin: origin, builder: builder)
    }

    /// Parses and builds in one step (tests, and callers that already hold every field).
    public func convert(_ entry: JournalEntry) -> LogLineConverter.Outcome {
        let (activity, other) = activity(identifier: entry.identifier, message: entry.message, unit: entry.unit)
        guard let activity else { return other ?? .unknown }
        return .record(record(for: activity, entry: entry))
    }
}
