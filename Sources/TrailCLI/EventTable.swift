// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// Renders looked-up events for a terminal or for other programs.
public enum EventTable {
    /// A plain-text table, one event per row, newest first. Record text is escaped: a terminal
    /// must not take an attacker's escape sequence for its own.
    public static func table(_ events: [LookupEvent]) -> String {
        let header = ["EVENT TIME", "HOST", "EVENT SOURCE", "EVENT NAME", "USER", "ERROR", "EVENT ID"]
        var rows = [header]
        for event in events {
            let record = try? CloudTrailRecord.decode(from: Data(event.cloudTrailEvent.utf8))
            rows.append(
                [
                    record?.eventTime ?? TrailTime.formatEpochSeconds(Int64(event.eventTime)),
                    record?.claimedHostName ?? "-",
                    event.eventSource ?? "-",
                    event.eventName ?? "-",
                    event.username ?? "-",
                    record?.errorCode ?? "-",
                    event.eventId,
                ].map(IdentifierText.escapingControlCharacters))
        }
        var lines = aligned(rows)
        lines.append("(\(events.count) event\(events.count == 1 ? "" : "s"))")
        return lines.joined(separator: "\n")
    }

    /// Rows as lines, each column as wide as its widest cell, two spaces apart (the last unpadded).
    static func aligned(_ rows: [[String]]) -> [String] {
        let widths = (rows.first ?? []).indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// One event on one line, the table's columns separated by two spaces (for `hosttrail tail`).
    public static func line(_ event: LookupEvent) -> String {
        let record = try? CloudTrailRecord.decode(from: Data(event.cloudTrailEvent.utf8))
        return [
            record?.eventTime ?? TrailTime.formatEpochSeconds(Int64(event.eventTime)), record?.claimedHostName ?? "-", event.eventSource ?? "-",
            event.eventName ?? "-", event.username ?? "-", record?.errorCode ?? "-", event.eventId,
        ].map(IdentifierText.escapingControlCharacters).joined(separator: "  ")
    }

    /// A JSON array of the full records.
    public static func json(_ events: [LookupEvent]) throws -> String {
        let records = try events.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.cloudTrailEvent.utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(records), as: UTF8.self)
    }

    /// One record per line.
    public static func jsonLines(_ events: [LookupEvent]) -> String {
        events.map(\.cloudTrailEvent).joined(separator: "\n")
    }
}
