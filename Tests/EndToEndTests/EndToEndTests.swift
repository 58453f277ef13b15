// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// Real collector and agent processes, real mTLS, curl over the socket, `hosttrail lookup`.
@Suite(.serialized, .endToEnd)
struct EndToEndTests {
    @Test func eventsPostedOnTheSocketAreFoundWithLookup() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent("web-01", hostname: "web-01")

        let single = try fleet.post(
            #"{"eventSource":"billing.example.com","eventName":"DeleteInvoice","requestParameters":{"invoiceId":42},"userIdentity":{"type":"Root","userName":"alice","principalId":"0","arn":"arn:aws:iam::1:root"}}"#
        )
        #expect(single.status == 202)
        let singleID = try #require(single.body?["eventIDs"]?.arrayValue?.first?.stringValue)
        let batch = try fleet.post(
            #"{"events":[{"eventSource":"billing.example.com","eventName":"CreateInvoice"},{"eventSource":"billing.example.com","eventName":"GetInvoice","readOnly":true}]}"#
        )
        #expect(batch.status == 202)
        #expect(batch.body?["eventIDs"]?.arrayValue?.count == 2)
        let ndjson = try fleet.post(
            "{\"eventSource\":\"deploy.example.com\",\"eventName\":\"StartDeployment\"}\n{\"eventSource\":\"deploy.example.com\",\"eventName\":\"StopDeployment\"}\n",
            contentType: "application/x-ndjson")
        #expect(ndjson.status == 202)

        let billing = try fleet.records(["--event-source", "billing.example.com"], atLeast: 3)
        #expect(billing.count == 3)
        let deleted = try #require(billing.first { $0.eventID == singleID })
        // The kernel's identity, not the client's claim; the claimed end user kept apart.
        #expect(deleted.userIdentity?.type == "LinuxUser")
        #expect(deleted.userIdentity?.principalId == String(getuid()))
        #expect(deleted.userIdentity?.arn == nil)
        #expect(deleted.userIdentity?.sessionContext?.sourceIdentity == "alice")
        #expect(deleted.additionalEventData?["process"]?["exe"]?.stringValue?.hasSuffix("/curl") == true)
        #expect(deleted.additionalEventData?["host"]?["hostname"] == "web-01")
        #expect(deleted.recipientAccountId == "123456789012")
        #expect(deleted.awsRegion == "eu-west-1")
        #expect(deleted.additionalEventData?["trailARN"] == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/e2e-trail")
        #expect(deleted.requestParameters?["invoiceId"] == .integer(42))

        // Several filters at once, ANDed; a total limit; the table output.
        let one = try fleet.records(["--event-source", "billing.example.com", "--event-name", "GetInvoice", "--host", "web-01"], atLeast: 1)
        #expect(one.map(\.eventName) == ["GetInvoice"])
        #expect(try fleet.records(["--host", "web-02"], atLeast: 0).isEmpty)
        #expect(try fleet.records(["--since", "1h", "--max-results", "2"], atLeast: 2).count == 2)
        #expect(
            try fleet.records(
                ["--event-source", "deploy.example.com", "--user", getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"],
                atLeast: 2
            ).count == 2)
        let table = try fleet.lookup(["--event-source", "billing.example.com"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("DeleteInvoice"))
        #expect(table.stdout.contains("(3 events)"))

        // The agent says when it started, with its version and configuration hash.
        let started = try fleet.records(["--event-source", "agent.hosttrail", "--event-name", "AgentStarted"], atLeast: 1)
        #expect(started.first?.requestParameters?["version"] == .string(HostTrailVersion.current))
        #expect(started.first?.requestParameters?["configHash"]?.stringValue?.count == 64)
    }

    @Test func eachEventIsStoredOnceAndTheCollectorCountsDuplicates() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        // The same client request ID twice: a client retrying after a timeout.
        for _ in 0..<2 {
            #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"Charge","requestID":"retry-1"}"#).status == 202)
        }
        #expect(try fleet.records(["--event-name", "Charge"], atLeast: 1).count == 1)
        // A later event, stored: a second Charge would have been shipped before it.
        #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"Later"}"#).status == 202)
        _ = try fleet.records(["--event-name", "Later"], atLeast: 1)
        #expect(try fleet.records(["--event-name", "Charge"], atLeast: 1).count == 1)
    }

    @Test func clientsWithoutAValidCertificateAreRefused() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let other = try TemporaryDirectory(prefix: "other-ca")
        defer { other.remove() }
        #expect(try Command.run(TestBinaries.cli, ["dev-certs", "--out", other.path, "--host", "web-01"]).status == 0)
        let ca = fleet.certificates + "/ca.pem"

        let good = try Command.run(
            "curl",
            [
                "-sS", "--cacert", ca, "--cert", fleet.certificates + "/web-01.pem", "--key", fleet.certificates + "/web-01-key.pem",
                fleet.collectorURL + "/healthz",
            ])
        #expect(good.status == 0)
        #expect(good.stdout.contains("ok"))
        // No certificate: TLS lets the connection in (the certificate is asked for, not required),
        // and each endpoint refuses it with a clear error.
        let anonymousIngest = try Command.run(
            "curl", ["-sS", "--cacert", ca, "-w", "\n%{http_code}", "-X", "POST", "-d", "{}", fleet.collectorURL + "/v1/records"])
        #expect(anonymousIngest.stdout.hasSuffix("\n403"), "\(anonymousIngest)")
        #expect(anonymousIngest.stdout.contains("ClientCertificateRequired"))
        let anonymousQuery = try Command.run(
            "curl",
            [
                "-sS", "--cacert", ca, "-w", "\n%{http_code}", "-H",
                "X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                "-d", "{}", fleet.collectorURL + "/",
            ])
        #expect(anonymousQuery.stdout.hasSuffix("\n403"), "\(anonymousQuery)")
        #expect(anonymousQuery.stdout.contains("MissingAuthenticationTokenException"))
        let anonymousLookup = try Command.run(TestBinaries.cli, ["lookup", "--collector", fleet.collectorURL, "--ca", ca])
        #expect(anonymousLookup.status != 0)
        #expect(anonymousLookup.stderr.contains("MissingAuthenticationTokenException"))

        // A certificate from another CA fails the TLS handshake, whatever the endpoint.
        for path in ["/v1/records", "/", "/healthz"] {
            let refused = try Command.run(
                "curl",
                [
                    "-sS", "--cacert", ca, "--cert", other.path + "/web-01.pem", "--key", other.path + "/web-01-key.pem",
                    "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "{}", fleet.collectorURL + path,
                ])
            #expect(refused.status != 0, "\(path): \(refused)")
            #expect(refused.stdout == "000")
        }
        let lookup = try Command.run(
            TestBinaries.cli,
            ["lookup", "--collector", fleet.collectorURL, "--ca", ca, "--cert", other.path + "/web-01.pem", "--key", other.path + "/web-01-key.pem"])
        #expect(lookup.status != 0)
        #expect(lookup.stderr.contains("cannot reach the collector"))
    }

    @Test func aHostCannotWriteRecordsInAnotherHostsName() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let forged =
            #"{"Records":[{"eventVersion":"1.11","eventTime":"2026-11-24T10:00:00Z","eventSource":"sshd.linux","eventName":"ConsoleLogin","eventID":"6f1c7c0e-0000-4000-8000-000000000001","additionalEventData":{"host":{"hostname":"web-01"}}}]}"#
        let result = try Command.run(
            "curl",
            [
                "-sS", "--cacert", fleet.certificates + "/ca.pem", "--cert", fleet.certificates + "/web-02.pem", "--key",
                fleet.certificates + "/web-02-key.pem",
                "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-d", forged, fleet.collectorURL + "/v1/records",
            ])
        #expect(result.stdout.hasSuffix("\n403"))
        #expect(result.stdout.contains("HostMismatch"))

        // An agent told it is web-02 while holding web-01's certificate: its records are refused
        // and set aside, never stored under either name.
        try fleet.startAgent("impostor", certificateHost: "web-01", hostname: "web-02")
        #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"Forged"}"#, to: "impostor").status == 202)
        let deadLetters = fleet.spoolPath("impostor") + "/dead-letter"
        let deadline = Date().addingTimeInterval(10)
        var reasons: [String] = []
        while Date() < deadline {
            reasons = ((try? FileManager.default.contentsOfDirectory(atPath: deadLetters)) ?? []).filter { $0.hasSuffix(".reason") }
            if !reasons.isEmpty { break }
            usleep(100_000)
        }
        let reason = try String(contentsOfFile: deadLetters + "/" + #require(reasons.first), encoding: .utf8)
        #expect(reason.contains("403"))
        #expect(reason.contains("HostMismatch"))
        #expect(try fleet.records(["--event-name", "Forged"], atLeast: 1, timeout: 1).isEmpty)
    }

    @Test func badInputOnTheSocketGetsAClearErrorAndTheAgentKeepsServing() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent(extra: ["--socket-read-timeout-ms", "1500"])

        let notJSON = try fleet.post("this is not json")
        #expect(notJSON.status == 400)
        #expect(notJSON.body?["error"]?["code"] == "MalformedJSON")
        let noName = try fleet.post(#"{"eventSource":"billing.example.com"}"#)
        #expect(noName.status == 400)
        #expect(noName.body?["error"]?["code"] == "MissingField")
        #expect(noName.body?["error"]?["field"] == "eventName")
        #expect(noName.body?["error"]?["index"] == .integer(0))
        let huge = try fleet.post(#"{"eventName":"A","requestParameters":{"x":""# + String(repeating: "a", count: 10 * 1024 * 1024) + "\"}}")
        #expect(huge.status == 413)
        #expect(huge.body?["error"]?["message"]?.stringValue?.contains("limit") == true)
        let reserved = try fleet.post(#"{"eventSource":"sshd.linux","eventName":"Accepted"}"#)
        #expect(reserved.status == 403)
        let wrongPath = try fleet.curlSocket(["http://localhost/v2/nothing"])
        #expect(wrongPath.status == 404)

        // Half a request, then silence: the agent answers 408 once its read timeout passes,
        // and serves another client meanwhile.
        let stalled = try UnixSockets.StreamClient(path: fleet.socketPath("web-01"))
        try stalled.send(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"eventName\":")
        let meanwhile = try fleet.post(#"{"eventSource":"billing.example.com","eventName":"WhileStalled"}"#)
        #expect(meanwhile.status == 202)
        let answer = stalled.readAll(timeout: 10)
        #expect(answer.hasPrefix("HTTP/1.1 408"))
        #expect(answer.contains("RequestTimeout"))

        let health = try fleet.curlSocket(["http://localhost/v1/health"])
        #expect(health.status == 200)
        #expect(try fleet.records(["--event-name", "WhileStalled"], atLeast: 1).count == 1)
    }

    @Test func aKilledAgentRestartsOnItsSpoolAndSocketAndASecondAgentIsRefused() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let first = try fleet.startAgent()
        #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"BeforeCrash"}"#).status == 202)

        // A second agent on the same spool: refused with a clear message, the first unharmed.
        let second = try TestProcess(
            TestBinaries.agent,
            [
                "--collector", fleet.collectorURL, "--spool-dir", fleet.spoolPath("web-01"), "--socket", fleet.directory.file("second.sock"),
                "--ca", fleet.certificates + "/ca.pem", "--cert", fleet.certificates + "/web-01.pem", "--key", fleet.certificates + "/web-01-key.pem",
            ],
            logPath: fleet.directory.file("second.log"))
        #expect(try second.waitForExit() != 0)
        #expect(second.log.contains("in use by another agent"))

        first.crash()
        #expect(FileManager.default.fileExists(atPath: fleet.socketPath("web-01")), "a killed agent leaves its socket behind")
        let restarted = try fleet.startAgent()
        #expect(restarted.log.contains("replacing a stale application socket"))
        #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"AfterCrash"}"#).status == 202)
        #expect(try fleet.records(["--event-source", "billing.example.com"], atLeast: 2).count == 2)
        // Two starts, no clean stop between them: the gap shows in the trail.
        #expect(try fleet.records(["--event-name", "AgentStarted"], atLeast: 2).count == 2)
    }

    @Test func aGracefulStopIsRecordedAndEventsSpooledWhileTheCollectorIsDownArriveLater() throws {
        let fleet = try Fleet()
        try fleet.startCollector()
        let agent = try fleet.startAgent()
        #expect(agent.stop() == 0)
        #expect(try fleet.records(["--event-name", "AgentStopped"], atLeast: 1).count == 1)

        // With the collector down, the agent accepts and spools; the records wait on disk, across
        // an agent restart, until a collector (here on a new port) takes them.
        fleet.collector?.stop()
        try fleet.startAgent()
        #expect(try fleet.post(#"{"eventSource":"billing.example.com","eventName":"WhileDown"}"#).status == 202)
        fleet.agents["web-01"]?.stop()
        try fleet.startCollector()
        try fleet.startAgent()
        #expect(try fleet.records(["--event-name", "WhileDown"], atLeast: 1).count == 1)
    }

    @Test func theSocketIsCreatedWithItsModeAndGroup() throws {
        // The hosttrail group comes from packaging/sysusers.d via scripts/deps.sh; without it the
        // test fails rather than skips.
        let group = try #require(getgrnam("hosttrail"), "no hosttrail group: run scripts/deps.sh (make test does)")
        let fleet = try Fleet()
        try fleet.startCollector()
        try fleet.startAgent()
        var status = stat()
        #expect(stat(fleet.socketPath("web-01"), &status) == 0)
        #expect(status.st_mode & 0o777 == 0o660)
        #expect(status.st_gid == group.pointee.gr_gid)

        #expect(status.st_uid == 0)

        let custom = try fleet.startAgent(
            "custom", certificateHost: "web-02", extra: ["--socket-mode", "0600", "--socket-group", "root", "--socket-owner", "nobody"])
        #expect(stat(fleet.socketPath("custom"), &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        #expect(status.st_gid == 0)
        #expect(status.st_uid == getpwnam("nobody").pointee.pw_uid)
        custom.stop()
        #expect(!FileManager.default.fileExists(atPath: fleet.socketPath("custom")), "a stopped agent removes its socket:\n\(custom.log)")
    }

    @Test func readinessIsNotifiedOnTheNotifySocket() throws {
        let fleet = try Fleet()
        let collectorNotify = try UnixSockets.DatagramListener(path: fleet.directory.file("collector-notify"))
        try fleet.startCollector(environment: ["NOTIFY_SOCKET": collectorNotify.path])
        #expect(
            collectorNotify.receive(until: "READY=1", timeout: 10).contains {
                $0.contains("READY=1") && $0.contains("STATUS=listening on https://127.0.0.1:")
            })

        let agentNotify = try UnixSockets.DatagramListener(path: fleet.directory.file("agent-notify"))
        let agent = try fleet.startAgent(environment: ["NOTIFY_SOCKET": agentNotify.path], waitForSocket: false)
        let messages = agentNotify.receive(until: "READY=1", timeout: 10)
        #expect(messages.contains { $0.contains("READY=1") })
        // READY=1 means the socket is already accepting.
        #expect(FileManager.default.fileExists(atPath: fleet.socketPath("web-01")))
        #expect(try fleet.curlSocket(["http://localhost/v1/health"]).status == 200)
        agent.stop()
        #expect(agentNotify.receive(until: "STOPPING=1", timeout: 5).contains { $0.contains("STOPPING=1") })
    }
}
