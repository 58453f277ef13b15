// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Turns a journald entry into a record, through the same message parsers as auth.log lines, so
/// an activity reads the same whichever source saw it.
public struct JournalEntryConverter: Sendable {
    /// The checkpoint and event-ID source name of the journal.
    public static let source = "journal"

    public var builder: HostRecordBuilder

    public init(builder: HostRecordBuilder) {
        self.builder = builder
    }

    /// The `SYSLOG_IDENTIFIER` values whose messages a parser understands: the reader pushes them
    /// into `sd_journal_add_match`, so journald skips every other entry without it being read.
    public static let parsedIdentifiers: [String] = AuthLogParser.identifiers

    /// What the parsers make of an entry's message; cheap, so the reader asks before it reads the
    /// entry's remaining fields.
    public func activity(identifier: String, message: String) -> AuthLogParser.Outcome {
        AuthLogParser.parse(identifier: identifier, message: message)
    }

    /// The record of `activity`, found in `entry`.
    public func record(for activity: HostActivity, entry: JournalEntry) -> CloudTrailRecord {
        var details: [String: JSONValue] = ["cursor": .string(entry.cursor)]
        if let unit = entry.unit { details["unit"] = .string(unit) }
        if let bootID = entry.bootID { details["bootId"] = .string(bootID) }
        if let transport = entry.transport { details["transport"] = .string(transport) }
        let origin = HostRecordBuilder.Origin(source: Self.source, position: entry.cursor, details: details)
        return builder.record(
            for: activity, time: Date(timeIntervalSince1970: entry.time), process: (entry.identifier, entry.pid), message: entry.message,
            origin: origin)
    }

    /// Parses and builds in one step (tests, and callers that already hold every field).
    public func convert(_ entry: JournalEntry) -> LogLineConverter.Outcome {
        switch activity(identifier: entry.identifier, message: entry.message) {
        case .activity(let activity): return .record(record(for: activity, entry: entry))
        case .ignored: return .ignored
        case .unknown: return .unknown
        }
    }
}
