// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// One Insight as `hosttrail insights` shows it: its Start record and, once it has closed, its
/// End, paired by `sharedEventID`. Every text shown comes from records, so it is escaped.
public struct InsightView: Sendable {
    public var start: CloudTrailRecord?
    public var end: CloudTrailRecord?

    /// Pairs Insight records by `sharedEventID`, newest first.
    public static func pair(_ records: [CloudTrailRecord]) -> [InsightView] {
        var byShared: [String: InsightView] = [:]
        for record in records where record.eventCategory == "Insight" {
            let shared = record.sharedEventID ?? record.eventID
            var view = byShared[shared] ?? InsightView()
            if record.insightDetails?["state"]?.stringValue == "End" { view.end = record } else { view.start = record }
            byShared[shared] = view
        }
        return byShared.values.sorted { $0.startTime > $1.startTime }
    }

    var any: CloudTrailRecord? { start ?? end }
    var details: JSONValue? { any?.insightDetails }
    public var sharedEventID: String { any?.sharedEventID ?? any?.eventID ?? "-" }
    public var eventSource: String? { details?["eventSource"]?.stringValue }
    public var eventName: String? { details?["eventName"]?.stringValue }
    public var errorCode: String? { details?["errorCode"]?.stringValue }
    public var insightType: String { details?["insightType"]?.stringValue ?? "ApiCallRateInsight" }
    /// Rate and silence Insights have a per-minute series; first-seen ones do not.
    public var hasSeries: Bool { ["ApiCallRateInsight", "ApiErrorRateInsight", "HostSilent"].contains(insightType) }
    public var scope: String { details?["hostTrail"]?["scope"]?.stringValue ?? "fleet" }
    public var host: String? { details?["hostTrail"]?["host"]?.stringValue }
    public var user: String? { details?["hostTrail"]?["userName"]?.stringValue }
    /// When it started (the Start's time; an End alone says its first minute).
    public var startTime: Date {
        if let time = start.flatMap({ TrailTime.parseISO8601($0.eventTime) }) { return time }
        return details?["hostTrail"]?["firstMinute"]?.stringValue.flatMap(TrailTime.parseISO8601) ?? .distantPast
    }
    /// When it ended; `nil` while it is open.
    public var endTime: Date? { end.flatMap { TrailTime.parseISO8601($0.eventTime) } }

    func statistic(_ path: String, of record: CloudTrailRecord?) -> Double? {
        switch record?.insightDetails?["insightContext"]?["statistics"]?[path]?["average"] {
        case .number(let n)?: n
        case .integer(let n)?: Double(n)
        default: nil
        }
    }

    /// A table of Insights, one a row, newest first.
    public static func table(_ insights: [InsightView]) -> String {
        let header = ["START", "END", "SCOPE", "TYPE", "EVENT SOURCE", "EVENT NAME", "ERROR", "BASELINE", "AVERAGE", "ID"]
        var rows = [header]
        for insight in insights {
            let scope =
                switch insight.scope {
                case "host": "host " + (insight.host ?? "?")
                case "user": "user " + (insight.user ?? "?")
                default: "fleet"
                }
            let direction = insight.details?["hostTrail"]?["direction"]?.stringValue == "rise" ? " ↑" : " ↓"
            let type =
                switch insight.insightType {
                case "HostSilent": "silent"
                case "ApiErrorRateInsight": "error rate" + direction
                case "ApiCallRateInsight": "call rate" + direction
                default: insight.insightType  // first seen: FirstSudoOnHost, NewLoginSourceAddress, …
                }
            rows.append(
                [
                    TrailTime.format(insight.startTime), insight.endTime.map(TrailTime.format) ?? "open", scope, type, insight.eventSource ?? "-",
                    insight.eventName ?? "-",
                    insight.errorCode ?? "-", format(insight.statistic("baseline", of: insight.any)),
                    format(insight.statistic("insight", of: insight.end ?? insight.start)), insight.sharedEventID,
                ].map(IdentifierText.escapingControlCharacters))
        }
        var lines = EventTable.aligned(rows)
        lines.append("(\(insights.count) insight\(insights.count == 1 ? "" : "s"))")
        return lines.joined(separator: "\n")
    }

    /// One Insight in full: what and where, the per-minute series against the baseline drawn
    /// as bars (`*` marks its minutes, `|` the baseline), its attributions, and the events of its
    /// window.
    public func detail(series: [(time: Date, count: Double)], events: [LookupEvent]) -> String {
        let escape = IdentifierText.escapingControlCharacters
        var lines: [String] = []
        lines.append("Insight \(sharedEventID)")
        lines.append("  \(escape(eventSource ?? "-")) \(escape(eventName ?? "-"))" + (errorCode.map { " failing with \(escape($0))" } ?? ""))
        lines.append("  scope: \(escape(scope))" + (host.map { " \(escape($0))" } ?? "") + (user.map { " \(escape($0))" } ?? ""))
        lines.append("  from \(TrailTime.format(startTime)) to \(endTime.map(TrailTime.format) ?? "now (open)")")
        let baseline = statistic("baseline", of: any) ?? 0
        lines.append("  baseline \(Self.format(baseline)) a minute; insight \(Self.format(statistic("insight", of: end ?? start)))")
        if let hostTrail = details?["hostTrail"] {
            let probability: String =
                switch hostTrail["probability"] {
                case .number(let p)?: String(format: "%.2g", p)
                default: "-"
                }
            let slot = hostTrail["hourOfWeekSlot"]?.integerValue.map { "hour-of-week slot \($0)" } ?? "the whole window"
            lines.append("  decided on \(slot), tail probability \(probability)")
        }
        lines.append("")
        let peak = max(series.map(\.count).max() ?? 0, baseline, 1)
        let width = 50
        let insightEnd = endTime ?? .distantFuture
        for point in series {
            let bar = Int((point.count / peak * Double(width)).rounded())
            var cells = Array(String(repeating: "█", count: bar) + String(repeating: " ", count: width - bar))
            let mark = min(width - 1, Int((baseline / peak * Double(width)).rounded()))
            if cells[mark] == " " { cells[mark] = "|" }
            let inside = point.time >= startTime && point.time < insightEnd
            lines.append(
                "  \(TrailTime.format(point.time).dropFirst(11).prefix(5)) \(inside ? "*" : " ") \(String(cells)) \(Self.format(point.count))")
        }
        if let attributions = details?["insightContext"]?["attributions"]?.arrayValue, !attributions.isEmpty {
            lines.append("")
            for attribution in attributions {
                let values = (attribution["insight"]?.arrayValue ?? []).map { entry in
                    "\(escape(entry["value"]?.stringValue ?? "-")) (\(Self.format(Self.number(entry["average"]))))"
                }
                guard !values.isEmpty else { continue }
                lines.append("  \(escape(attribution["attribute"]?.stringValue ?? "-")): \(values.joined(separator: ", "))")
            }
        }
        lines.append("")
        lines.append("Events from a minute before to a minute after:")
        lines.append(EventTable.table(events))
        return lines.joined(separator: "\n")
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .number(let n)?: n
        case .integer(let n)?: Double(n)
        default: nil
        }
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value == value.rounded() ? String(Int64(value)) : String(format: "%.2f", value)
    }
}

extension LookupClient {
    /// Insights that started or ended since `since`, paired, newest first.
    public func insights(since: Date) throws -> [InsightView] {
        InsightView.pair(
            try lookup(LookupEventsRequest(startTime: since, eventCategory: "insight"), maxResults: nil).map {
                try CloudTrailRecord.decode(from: Data($0.cloudTrailEvent.utf8))
            })
    }

    /// The Insight whose shared ID, or either record's event ID, is `id`, in full: its series
    /// from half an hour before it to ten minutes after, and its events from a minute before
    /// its start to a minute after its end (at most 200); `nil` when none since `since` has it.
    public func insightDetail(id: String, since: Date, now: Date = Date()) throws -> String? {
        let wanted = id.lowercased()
        guard
            let insight = try insights(since: since).first(where: {
                $0.sharedEventID == wanted || $0.start?.eventID == wanted || $0.end?.eventID == wanted
            }), let source = insight.eventSource, let name = insight.eventName
        else { return nil }
        let end = insight.endTime ?? now
        // A first-seen Insight has no series: it is the one record it names.
        let series =
            insight.hasSeries
            ? try insightsMetricData(
                eventSource: source, eventName: name, insightType: insight.insightType, errorCode: insight.errorCode, host: insight.host,
                user: insight.user,
                start: insight.startTime.addingTimeInterval(-1800), end: min(now, end.addingTimeInterval(600))) : []
        // A silent host's window: whatever it recorded around the silence.
        var attributes: [LookupAttribute] =
            insight.insightType == "HostSilent" ? [] : [.init(key: .eventSource, value: source), .init(key: .eventName, value: name)]
        if let host = insight.host { attributes.append(.init(key: .host, value: host)) }
        if let user = insight.user { attributes.append(.init(key: .username, value: user)) }
        var events = try lookup(
            LookupEventsRequest(
                lookupAttributes: attributes, startTime: insight.startTime.addingTimeInterval(-60), endTime: end.addingTimeInterval(60)),
            maxResults: 200)
        if let errorCode = insight.errorCode {
            events = events.filter { (try? CloudTrailRecord.decode(from: Data($0.cloudTrailEvent.utf8)))?.errorCode == errorCode }
        }
        return insight.detail(series: series, events: events)
    }
}
