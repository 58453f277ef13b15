// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import TrailCLI
import TrailCore

struct Insights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List Insights (unusual activity the collector found), or show one with its series and events.",
        discussion: """
            Without --show: one Insight a row, newest first. With --show ID (the shared ID, or either record's event ID): \
            what it is about, the per-minute counts against the baseline drawn as bars, its attributions, and the events \
            from a minute before it started to a minute after it ended.
            """)

    @OptionGroup var connection: CollectorConnection
    @Option(name: .customLong("since"), help: "Insights since then: ISO 8601 or relative (default 7d).") var since = "7d"
    @Option(help: "Show this Insight in full.") var show: String?
    @Option(help: "table or json (the records).") var output: String = "table"

    func validate() throws {
        guard ["table", "json"].contains(output) else { throw ValidationError("--output must be table or json") }
    }

    func run() throws {
        let now = Date()
        let from = try parseTime(since, "--since", now: now) ?? now
        do {
            let client = try connection.client()
            if let show {
                guard let detail = try client.insightDetail(id: show, since: from, now: now) else {
                    FileHandle.standardError.write(Data("hosttrail insights: no Insight \(show) since \(TrailTime.format(from))\n".utf8))
                    throw ExitCode(1)
                }
                print(detail)
            } else if output == "json" {
                print(try EventTable.json(try client.lookup(LookupEventsRequest(startTime: from, eventCategory: "insight"), maxResults: nil)))
            } else {
                print(InsightView.table(try client.insights(since: from)))
            }
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail insights: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}
