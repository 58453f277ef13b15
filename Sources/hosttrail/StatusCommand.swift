// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import TrailCLI
import TrailCore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The fleet's hosts: last record and heartbeat, agent version, lag, spool backlog, drops, certificate expiry; flags the silent, lagging and dropping.",
        discussion: "Exits 0 whatever the flags say; --output json for scripts and monitoring.")

    @OptionGroup var connection: CollectorConnection
    @Option(name: .customLong("silent-after"), help: "Silent after this long without a record (default: three heartbeat intervals), e.g. 15m.")
    var silentAfter: String?
    @Option(name: .customLong("lagging-after"), help: "Lagging when the newest event or the oldest unshipped record is older than this.")
    var laggingAfter: String = "10m"
    @Option(help: "table or json.") var output: String = "table"

    func validate() throws {
        if let silentAfter, TrailTime.parseDuration(silentAfter) == nil { throw ValidationError("--silent-after is a duration such as 15m") }
        guard TrailTime.parseDuration(laggingAfter) != nil else { throw ValidationError("--lagging-after is a duration such as 10m") }
        guard ["table", "json"].contains(output) else { throw ValidationError("--output is table or json") }
    }

    func run() throws {
        do {
            let answer = try connection.client().rulesCall("ListHosts")
            let now = Date()
            let status = FleetStatus(
                answer: answer, now: now, silentAfter: silentAfter.flatMap(TrailTime.parseDuration),
                laggingAfter: TrailTime.parseDuration(laggingAfter) ?? 600)
            print(output == "json" ? String(decoding: status.json.serialized(), as: UTF8.self) : status.table(now: now))
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail status: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}
