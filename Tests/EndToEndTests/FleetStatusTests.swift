// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// `hosttrail status` over a real fleet: a healthy agent, one killed (silent), and one whose spool
/// overflowed under `drop_oldest` while the collector was away (dropping), each told from the
/// trail's own heartbeats.
@Suite(.serialized, .endToEnd)
struct FleetStatusTests {
    @Test func statusFlagsTheSilentAndTheDropping() throws {
        let fleet = try Fleet(hosts: ["web-01", "web-02", "web-03"])
        let port = try FreePort.find()
        try fleet.startCollector(port: port)
        let beat = ["--heartbeat-interval-ms", "1000"]
        try fleet.startAgent("web-01", extra: beat)
        try fleet.startAgent("web-02", extra: beat)
        try fleet.startAgent("web-03", extra: beat + ["--spool-max-bytes", "1048576", "--spool-full-policy", "drop_oldest"])
        func status() throws -> [String: JSONValue] {
            let result = try fleet.cli("status", ["--output", "json", "--silent-after", "4s"])
            guard result.status == 0, let rows = try JSONValue.parse(Data(result.stdout.utf8)).arrayValue else {
                throw TestProcess.Failure(description: "hosttrail status: \(result)")
            }
            return Dictionary(rows.map { ($0["Host"]?.stringValue ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        }
        func flags(_ row: JSONValue?) -> Set<String> { Set(row?["Flags"]?.arrayValue?.compactMap(\.stringValue) ?? ["absent"]) }
        func waitFor(_ what: String, timeout: TimeInterval = 60, _ condition: ([String: JSONValue]) -> Bool) throws -> [String: JSONValue] {
            let deadline = Date().addingTimeInterval(timeout)
            var last: [String: JSONValue] = [:]
            while Date() < deadline {
                last = try status()
                if condition(last) { return last }
                usleep(200_000)
            }
            throw TestProcess.Failure(description: "timed out waiting for \(what): \(last)\n\(fleet.agentLogs())")
        }

        let healthy = try waitFor("three healthy hosts") { rows in
            ["web-01", "web-02", "web-03"].allSatisfy { flags(rows[$0]).isEmpty && rows[$0]?["LastHeartbeat"] != nil }
        }
        #expect(healthy["web-01"]?["Version"]?.stringValue == HostTrailVersion.current)
        #expect(healthy["web-01"]?["CertificateNotAfter"]?.stringValue != nil, "seen on its connections")

        // web-02 dies; web-03 overflows its spool while the collector is away.
        fleet.agents["web-02"]?.crash()
        fleet.collector?.crash()
        let feeder = EventFeeder(socket: fleet.socketPath("web-03"), interval: 0)
        feeder.start()
        try #require(fleet.agents["web-03"]).waitForLog("spool full: dropped the oldest records", timeout: 120)
        _ = feeder.stop()
        try fleet.startCollector(port: port)

        let flagged = try waitFor("web-02 silent and web-03 dropping") { rows in
            flags(rows["web-02"]).contains("silent") && flags(rows["web-03"]).contains("dropping") && flags(rows["web-01"]).isEmpty
        }
        #expect((flagged["web-03"]?["DroppedLast15Minutes"]?.integerValue ?? 0) > 0)
        #expect(!flags(flagged["web-01"]).contains("silent"))
        let table = try fleet.cli("status", ["--silent-after", "4s"])
        #expect(table.status == 0 && table.stdout.contains("silent") && table.stdout.contains("dropping"), "\(table)")
    }
}
