// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Host certificates revoked by CN or serial number, the list reloaded on SIGHUP: a revoked host
/// is refused at ingest with a clear 403 and the refusal is itself in the trail.
@Suite(.serialized, .endToEnd)
struct RevocationTests {
    /// POSTs one record claiming `host` with `host`'s certificate; the HTTP status and body.
    static func deliver(_ fleet: Fleet, as host: String, name: String, time: Date = Date()) throws -> (status: Int, body: String) {
        let batch =
            #"{"Records":[{"eventVersion":"1.11","eventTime":"\#(TrailTime.format(time))","eventSource":"shop.example.com","eventName":"\#(name)","eventID":"\#(RandomUUID.make())","additionalEventData":{"host":{"hostname":"\#(host)"}}}]}"#
        let result = try Command.run(
            "curl",
            [
                "-sS", "--cacert", fleet.certificates + "/ca.pem", "--cert", fleet.certificates + "/\(host).pem", "--key",
                fleet.certificates + "/\(host)-key.pem",
                "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-d", batch, fleet.collectorURL + "/v1/records",
            ])
        let lines = result.stdout.split(separator: "\n")
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test func revokedHostsAreRefusedAndTheRefusalIsRecorded() throws {
        let fleet = try Fleet(hosts: ["web-01", "web-02", "auditor"])
        let list = fleet.directory.file("revoked")
        try Data("# revoked host certificates\ncn:web-03\n".utf8).write(to: URL(fileURLWithPath: list))
        try fleet.startCollector(extra: ["--revocation-file", list, "--fleet-reader", "auditor"])
        let collector = try #require(fleet.collector)
        #expect(try Self.deliver(fleet, as: "web-01", name: "Before").status == 200)
        #expect(try Self.deliver(fleet, as: "web-02", name: "Before").status == 200)

        // web-01 by name, web-02 by its serial number as openssl prints it.
        let serial = try Command.run("openssl", ["x509", "-in", fleet.certificates + "/web-02.pem", "-noout", "-serial"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        try Data("cn:web-01\nserial:\(serial)\n".utf8).write(to: URL(fileURLWithPath: list))
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("revocation list reloaded.*revocation.entries=2|revocation.entries=2.*revocation list reloaded")

        for host in ["web-01", "web-02"] {
            let refused = try Self.deliver(fleet, as: host, name: "AfterRevocation")
            #expect(
                refused.status == 403 && refused.body.contains("HostRevoked") && refused.body.contains("issue the host a new certificate"),
                "\(host): \(refused)")
        }
        #expect(try Self.deliver(fleet, as: "auditor", name: "NotRevoked").status == 200)
        let refusals = try fleet.records(["--event-source", "collector.hosttrail"], atLeast: 2, certificateHost: "auditor")
        #expect(Set(refusals.compactMap(\.claimedHostName)) == ["web-01", "web-02"])
        #expect(refusals.allSatisfy { $0.errorCode == "HostRevoked" && $0.eventName == "DeliverRecords" && $0.sourceIPAddress == "127.0.0.1" })
        #expect(try fleet.records(["--event-name", "AfterRevocation"], atLeast: 1, timeout: 1, certificateHost: "auditor").isEmpty)
        // A revoked certificate does not query either.
        let lookup = try fleet.lookup(["--event-name", "Before"], certificateHost: "web-01")
        #expect(lookup.status != 0 && lookup.stderr.contains("AccessDeniedException"), "\(lookup)")
        // A retrying host adds one record a minute, not one per attempt.
        #expect(try Self.deliver(fleet, as: "web-01", name: "AfterRevocation").status == 403)
        #expect(try fleet.records(["--event-source", "collector.hosttrail"], atLeast: 3, timeout: 1, certificateHost: "auditor").count == 2)

        // A broken list on reload leaves the one in force; a fixed one lets web-01 back.
        try Data("serial:not-hex\n".utf8).write(to: URL(fileURLWithPath: list))
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("revocation list not reloaded")
        #expect(try Self.deliver(fleet, as: "web-01", name: "StillRevoked").status == 403)
        try Data("serial:\(serial)\n".utf8).write(to: URL(fileURLWithPath: list))
        kill(collector.pid, SIGHUP)
        try collector.waitForLog("revocation.entries=1")
        #expect(try Self.deliver(fleet, as: "web-01", name: "Readmitted").status == 200)
        #expect(try Self.deliver(fleet, as: "web-02", name: "Readmitted").status == 403)
    }
}
