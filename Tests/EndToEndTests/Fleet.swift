// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// A collector and agents started as real processes, with real mTLS certificates, on loopback.
final class Fleet: @unchecked Sendable {
    // @unchecked: used by one serialized test at a time.
    let directory: TemporaryDirectory
    var collector: TestProcess?
    var agents: [String: TestProcess] = [:]
    var collectorURL = ""
    /// The collector's metrics listener (`/metrics`, `/healthz`, `/readyz`), plain HTTP on loopback.
    var collectorMetricsURL = ""

    var certificates: String { directory.file("certs") }

    /// - Parameter collectorNames: Addresses the collector's certificate also names (one in a test
    ///   network that agents in namespaces reach).
    init(hosts: [String] = ["web-01", "web-02"], collectorNames: [String] = []) throws {
        directory = try TemporaryDirectory(prefix: "e2e")
        let result = try Command.run(
            TestBinaries.cli,
            ["dev-certs", "--out", directory.file("certs")] + hosts.flatMap { ["--host", $0] } + collectorNames.flatMap { ["--collector-name", $0] })
        guard result.status == 0 else { throw TestProcess.Failure(description: "dev-certs failed: \(result)") }
    }

    /// Starts the collector on `port` (default: 0, a free one), read back from its log: the listener is ours.
    /// - Parameter whileStarting: Run as soon as the process is spawned, before it listens.
    func startCollector(
        port: Int = 0, listenHost: String = "127.0.0.1", environment: [String: String] = [:], extra: [String] = [],
        whileStarting: (TestProcess) throws -> Void = { _ in }
    ) throws {
        let process = try TestProcess(
            TestBinaries.collector,
            [
                "--listen", "\(listenHost):\(port)", "--data-dir", directory.file("collector"),
                "--tls-cert", certificates + "/collector.pem", "--tls-key", certificates + "/collector-key.pem",
                "--client-ca", certificates + "/ca.pem", "--account-id", "123456789012", "--region", "eu-west-1",
                "--trail-name", "e2e-trail",
                // The tests read the fleet with web-01's certificate; other hosts read their own.
                "--fleet-reader", "web-01",
                "--metrics-listen", "127.0.0.1:0",
            ] + extra,
            logPath: directory.file("collector-\(UUID().uuidString.prefix(4)).log"), environment: environment, unblockingSignals: true)
        collector = process
        try whileStarting(process)
        let bound = try process.waitForLog("listening on https://" + listenHost.replacingOccurrences(of: ".", with: "\\.") + #":(\d+)"#)
        if port != 0 && bound != String(port) {
            throw TestProcess.Failure(description: "the collector bound \(bound), not \(port)")
        }
        collectorURL = "https://\(listenHost):\(bound)"
        collectorMetricsURL = "http://127.0.0.1:" + (try process.waitForLog(#"metrics\.listen=127\.0\.0\.1:(\d+)"#))
    }

    /// Every agent log of this fleet, for a failing test's message.
    func agentLogs() -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("agent-") }.sorted()
        return names.map { "== \($0)\n" + ((try? String(contentsOfFile: directory.file($0), encoding: .utf8)) ?? "") }.joined(separator: "\n")
    }

    func socketPath(_ name: String) -> String { directory.file("\(name).sock") }
    func spoolPath(_ name: String) -> String { directory.file("spool-\(name)") }

    /// Starts an agent named `name` with host `certificateHost`'s certificate (in network namespace
    /// `namespace` when given); it tails no files unless `extra` or (`filesFromConfig`) its `--config` names some.
    @discardableResult
    func startAgent(
        _ name: String = "web-01", certificateHost: String? = nil, hostname: String? = nil, extra: [String] = [],
        environment: [String: String] = [:], waitForSocket: Bool = true, namespace: String? = nil, filesFromConfig: Bool = false
    ) throws -> TestProcess {
        let host = certificateHost ?? name
        var arguments = [
            "--collector", collectorURL, "--spool-dir", spoolPath(name), "--socket", socketPath(name),
            "--ca", certificates + "/ca.pem", "--cert", certificates + "/\(host).pem", "--key", certificates + "/\(host)-key.pem",
        ]
        if let hostname { arguments += ["--hostname", hostname] }
        // The machine's own auth.log and dpkg.log stay out of tests that do not ask for files.
        if !extra.contains("--tail-file") && !filesFromConfig { arguments.append("--no-tail-files") }
        // And so does the machine's journal, unless the test gives one.
        if !extra.contains("--journal-directory") && !extra.contains("--journal") { arguments.append("--no-journal") }
        let command = (namespace.map { ["netns", "exec", $0, TestBinaries.agent] } ?? []) + arguments + extra
        let process = try TestProcess(
            namespace == nil ? TestBinaries.agent : "/usr/sbin/ip", command,
            logPath: directory.file("agent-\(name)-\(UUID().uuidString.prefix(6)).log"),
            environment: environment, unblockingSignals: true)
        agents[name] = process
        if waitForSocket { try process.waitForLog("application socket listening") }
        return process
    }

    /// Polls the agent's `GET /v1/health` until it says every source has taken its place (`200`,
    /// `status` `ok`); returns the last answer's `sources`.
    @discardableResult
    func waitForReady(_ agent: String = "web-01", timeout: TimeInterval = 30) throws -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let health = try curlSocket(["http://localhost/v1/health"], agent: agent)
            if health.status == 200 && health.body?["status"]?.stringValue == "ok" { return health.body?["sources"] }
            usleep(5_000)
        }
        throw TestProcess.Failure(description: "the agent did not report ready: \(agentLogs())")
    }

    /// POSTs `body` to an agent's socket with curl; returns the HTTP status and the body.
    func post(_ body: String, to agent: String = "web-01", contentType: String = "application/json", path: String = "/v1/events") throws -> (
        status: Int, body: JSONValue?
    ) {
        let bodyFile = directory.file("request-\(UUID().uuidString.prefix(6))")
        try Data(body.utf8).write(to: URL(fileURLWithPath: bodyFile))
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        return try curlSocket(["-H", "Content-Type: \(contentType)", "--data-binary", "@\(bodyFile)", "http://localhost\(path)"], agent: agent)
    }

    func curlSocket(_ arguments: [String], agent: String = "web-01") throws -> (status: Int, body: JSONValue?) {
        let responseFile = directory.file("response-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(atPath: responseFile) }
        let result = try Command.run("curl", ["-sS", "--unix-socket", socketPath(agent), "-o", responseFile, "-w", "%{http_code}"] + arguments)
        let body = FileManager.default.contents(atPath: responseFile).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        return (Int(result.stdout) ?? -1, body)
    }

    /// Posts a batch to the collector's `/v1/records` with `host`'s certificate; the answer's body,
    /// a newline and its status.
    func deliver(_ arguments: [String], as host: String = "web-01") throws -> Command.Result {
        try Command.run(
            "curl",
            [
                "-sS", "--cacert", certificates + "/ca.pem", "--cert", certificates + "/\(host).pem", "--key",
                certificates + "/\(host)-key.pem", "-H", "Content-Type: application/json", "-w", "\n%{http_code}",
            ]
                + arguments + [collectorURL + "/v1/records"])
    }

    /// `hosttrail lookup` with web-01's certificate; `arguments` are the filters.
    func lookup(_ arguments: [String], certificateHost: String = "web-01") throws -> Command.Result {
        try cli("lookup", arguments, certificateHost: certificateHost)
    }

    /// `hosttrail SUBCOMMAND` (`rules list`: words) against the collector with `certificateHost`'s certificate.
    func cli(_ subcommand: String, _ arguments: [String], certificateHost: String = "web-01") throws -> Command.Result {
        try Command.run(
            TestBinaries.cli,
            subcommand.split(separator: " ").map(String.init) + [
                "--collector", collectorURL, "--ca", certificates + "/ca.pem", "--cert", certificates + "/\(certificateHost).pem",
                "--key", certificates + "/\(certificateHost)-key.pem",
            ] + arguments)
    }

    /// Looks up records (JSON output) until `count` match or `timeout` passes.
    func records(_ filters: [String], atLeast count: Int, timeout: TimeInterval = 15, certificateHost: String = "web-01") throws -> [CloudTrailRecord]
    {
        let deadline = Date().addingTimeInterval(timeout)
        var found: [CloudTrailRecord] = []
        while Date() < deadline {
            let result = try lookup(filters + ["--output", "json"], certificateHost: certificateHost)
            guard result.status == 0 else { throw TestProcess.Failure(description: "lookup failed: \(result)") }
            found = try JSONDecoder().decode([CloudTrailRecord].self, from: Data(result.stdout.utf8))
            if found.count >= count { return found }
            usleep(200_000)
        }
        return found
    }

    /// Event IDs stored for `eventSource`, read straight from the collector's SQLite file.
    func storedEventIDs(source: String) throws -> [String] {
        let result = try Command.run(
            "sqlite3", ["-readonly", directory.file("collector/events.sqlite"), "SELECT event_id FROM events WHERE event_source = '\(source)'"])
        guard result.status == 0 else { throw TestProcess.Failure(description: "sqlite3: \(result)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Records stored whose event source ends in `suffix` (`.linux`: host activity), decoded.
    func storedRecords(sourceSuffix suffix: String) throws -> [CloudTrailRecord] {
        let result = try Command.run(
            "sqlite3", ["-readonly", directory.file("collector/events.sqlite"), "SELECT record FROM events WHERE event_source LIKE '%\(suffix)'"])
        guard result.status == 0 else { throw TestProcess.Failure(description: "sqlite3: \(result)") }
        return try result.stdout.split(separator: "\n").map { try CloudTrailRecord.decode(from: Data($0.utf8)) }
    }

    /// Polls ``storedRecords(sourceSuffix:)`` until `count` are stored or `timeout` passes.
    func waitForStored(sourceSuffix suffix: String, count: Int, timeout: TimeInterval = 30) throws -> [CloudTrailRecord] {
        let deadline = Date().addingTimeInterval(timeout)
        var stored: [CloudTrailRecord] = []
        while Date() < deadline {
            stored = try storedRecords(sourceSuffix: suffix)
            if stored.count >= count { break }
            usleep(200_000)
        }
        return stored
    }

    /// Numbered sshd login messages: line `n` is user `user<n>` from port `n` (modulo 65,536:
    /// sshd writes no other port, and the parser reads no other), so the stored records say which
    /// lines arrived (``loginNumber(_:)``).
    static func loginMessages(_ numbers: Range<Int>) -> [String] {
        numbers.map { "Accepted password for user\($0) from 10.0.0.1 port \($0 % 65_536) ssh2" }
    }

    /// The `n` of a ``loginMessages(_:)`` line's record.
    static func loginNumber(_ record: CloudTrailRecord) -> Int64? {
        guard let name = record.userIdentity?.userName, name.hasPrefix("user") else { return nil }
        return Int64(name.dropFirst(4))
    }

    /// Waits for the records of ``loginMessages(_:)`` `0..<total` and checks each is stored exactly once.
    func expectLoginsStoredOnce(_ total: Int, timeout: TimeInterval = 60, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stored = try waitForStored(sourceSuffix: ".linux", count: total, timeout: timeout)
        let ports = Set(stored.compactMap(Self.loginNumber))
        #expect(ports.count == total, "\(total - ports.count) of \(total) lines missing; agents:\n\(agentLogs())", sourceLocation: sourceLocation)
        #expect(stored.count == total, "\(stored.count) records for \(total) lines", sourceLocation: sourceLocation)
        #expect(Set(stored.map(\.eventID)).count == stored.count, sourceLocation: sourceLocation)
    }

    /// Logs ``loginMessages(_:)`` in `batches` of `perBatch` through `log`, killing the collector
    /// after each batch and starting it again on `port`; then every line must be stored once.
    func expectLoginsStoredOnceWhileTheCollectorRestarts(
        port: Int, batches: Int = 6, perBatch: Int = 500, log: ([String]) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for batch in 0..<batches {
            try log(Self.loginMessages((batch * perBatch)..<((batch + 1) * perBatch)))
            collector?.crash()
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.3))
            try startCollector(port: port)
        }
        try expectLoginsStoredOnce(batches * perBatch, sourceLocation: sourceLocation)
    }

    /// Records stored with `eventName`, decoded.
    func storedRecords(eventName: String) throws -> [CloudTrailRecord] {
        let result = try Command.run(
            "sqlite3", ["-readonly", directory.file("collector/events.sqlite"), "SELECT record FROM events WHERE event_name = '\(eventName)'"])
        guard result.status == 0 else { throw TestProcess.Failure(description: "sqlite3: \(result)") }
        return try result.stdout.split(separator: "\n").map { try CloudTrailRecord.decode(from: Data($0.utf8)) }
    }

    deinit {
        for agent in agents.values { agent.stop() }
        collector?.stop()
        directory.remove()
    }
}
