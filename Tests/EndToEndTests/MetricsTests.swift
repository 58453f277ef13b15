// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// Both daemons' Prometheus metrics and health endpoints, scraped while records stream: the
/// figures reconcile with the spool's own accounting and with the store, and every name and label
/// keeps Prometheus' rules.
@Suite(.serialized, .endToEnd)
struct MetricsTests {
    /// One exposition, parsed: `name{labels}` → value, and each family's `# TYPE`.
    struct Exposition {
        var samples: [(name: String, labels: [String: String], value: Double)] = []
        var types: [String: String] = [:]

        init(_ text: String) throws {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    types[String(parts[2])] = String(parts[3])
                    continue
                }
                if line.hasPrefix("#") { continue }
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    throw TestProcess.Failure(description: "not a sample line: \(line)")
                }
                let series = line[..<space]
                var labels: [String: String] = [:]
                var name = String(series)
                if let brace = series.firstIndex(of: "{") {
                    name = String(series[..<brace])
                    let body = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                    // Label values here hold no quotes or commas (the check below makes sure of it).
                    for pair in body.split(separator: ",") {
                        let halves = pair.split(separator: "=", maxSplits: 1)
                        labels[String(halves[0])] = String(halves[1].dropFirst().dropLast())
                    }
                }
                samples.append((name, labels, value))
            }
        }

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
        }

        func sum(_ name: String) -> Double { samples.filter { $0.name == name }.map(\.value).reduce(0, +) }
    }

    func scrape(_ url: String, unixSocket: String? = nil) throws -> (status: Int, body: String) {
        let result = try Command.run("curl", ["-sS", "-w", "\n%{http_code}"] + (unixSocket.map { ["--unix-socket", $0] } ?? []) + [url])
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? -1
        return (status, lines.joined(separator: "\n"))
    }

    /// Prometheus' naming rules (https://prometheus.io/docs/practices/naming/) and HostTrail's:
    /// one prefix, counters end in `_total`, durations are histograms in seconds, label names are
    /// plain and label values come from small fixed sets.
    func checkNames(_ exposition: Exposition, daemon: String, allowedValues: [String: Set<String>]) {
        let name = try! Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*$"#)
        let label = try! Regex(#"^[a-zA-Z_][a-zA-Z0-9_]*$"#)
        for (family, type) in exposition.types {
            #expect(family.wholeMatch(of: name) != nil && family.hasPrefix("hosttrail_\(daemon)_"), "\(family)")
            #expect((type == "counter") == family.hasSuffix("_total"), "\(family) is a \(type)")
            if type == "histogram" { #expect(family.hasSuffix("_seconds"), "\(family)") }
        }
        for sample in exposition.samples {
            for (key, value) in sample.labels where key != "le" {
                #expect(key.wholeMatch(of: label) != nil && !key.hasPrefix("__"), "\(sample.name): label \(key)")
                let allowed = allowedValues[key]
                #expect(allowed?.contains(value) ?? false, "\(sample.name): \(key)=\"\(value)\" is not in a bounded set")
            }
        }
    }

    @Test func metricsReconcileWithTheSpoolAndTheStoreAndKeepPrometheusNames() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let agentMetrics = fleet.directory.file("agent-metrics.sock")
        let textfile = fleet.directory.file("agent.prom")
        try fleet.startAgent("web-01", extra: ["--metrics-listen", "unix:" + agentMetrics, "--metrics-textfile", textfile])
        try fleet.waitForReady()

        // A stream of 40 requests of 50 events, scraped as it goes: the agent's counters never
        // run backwards and never account for more than was received.
        var lastReceived = 0.0
        for request in 0..<40 {
            let events = (0..<50).map { #"{"eventSource":"shop.example.com","eventName":"Stream\#(request)-\#($0)"}"# }
            #expect(try fleet.post(#"{"events":[\#(events.joined(separator: ","))]}"#).status == 202)
            if request % 10 == 0 {
                let scraped = try scrape("http://localhost/metrics", unixSocket: agentMetrics)
                #expect(scraped.status == 200)
                let metrics = try Exposition(scraped.body)
                let received = try #require(metrics.value("hosttrail_agent_spool_received_records_total"))
                #expect(received >= lastReceived)
                #expect((metrics.value("hosttrail_agent_spool_acknowledged_records_total") ?? .infinity) <= received)
                lastReceived = received
            }
        }
        _ = try fleet.waitForStored(sourceSuffix: "shop.example.com", count: 2000)

        // Drained: received = acknowledged + pending + dropped + dead-lettered, as the health says.
        var agent = try Exposition("")
        var health: JSONValue?
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            agent = try Exposition(try scrape("http://localhost/metrics", unixSocket: agentMetrics).body)
            health = try JSONValue.parse(Array(try scrape("http://localhost/v1/health", unixSocket: agentMetrics).body.utf8))
            if agent.value("hosttrail_agent_spool_pending_records") == 0 && health?["pendingRecords"]?.integerValue == 0 { break }
            usleep(100_000)
        }
        let received = try #require(agent.value("hosttrail_agent_spool_received_records_total"))
        let acknowledged = try #require(agent.value("hosttrail_agent_spool_acknowledged_records_total"))
        #expect(received >= 2000 && received == acknowledged + agent.sum("hosttrail_agent_spool_dropped_records_total"), "\(agent.samples)")
        #expect(agent.value("hosttrail_agent_spool_pending_records") == 0 && health?["status"] == "ok", "\(String(describing: health))")
        #expect(agent.value("hosttrail_agent_source_records_total", ["source": "socket"]) == 2000)
        #expect(agent.value("hosttrail_agent_spool_dead_lettered_records_total") == 0)
        #expect((agent.value("hosttrail_agent_ship_request_duration_seconds_count", ["outcome": "delivered"]) ?? 0) >= 1)

        // Ready once its listener is up (a load balancer polls; so does the test, for up to 30 s).
        var ready = try scrape(fleet.collectorMetricsURL + "/readyz")
        let readyBy = Date().addingTimeInterval(30)
        while ready.status != 200 && Date() < readyBy {
            usleep(200_000)
            ready = try scrape(fleet.collectorMetricsURL + "/readyz")
        }
        #expect(ready.status == 200 && ready.body.contains(#""status":"ready""#), "\(ready)")

        // The collector: what it stored from web-01 is what the agent had acknowledged as new.
        let collector = try Exposition(try scrape(fleet.collectorMetricsURL + "/metrics").body)
        let ingested = try #require(collector.value("hosttrail_collector_ingested_records_total", ["host": "web-01"]))
        let duplicates = collector.value("hosttrail_collector_duplicate_records_total", ["host": "web-01"]) ?? 0
        let stored = try Command.run(
            "sqlite3", ["-readonly", fleet.directory.file("collector/events.sqlite"), "SELECT count(*) FROM events WHERE host = 'web-01'"])
        #expect(Double(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == ingested, "\(stored)")
        #expect(ingested + duplicates == acknowledged)
        #expect((collector.value("hosttrail_collector_commit_duration_seconds_count") ?? 0) >= 1)
        #expect(collector.value("hosttrail_collector_ready") == 1)

        // Lookups are counted by operation and status.
        #expect(try fleet.lookup(["--event-name", "Stream0-0"]).status == 0)
        let afterLookup = try Exposition(try scrape(fleet.collectorMetricsURL + "/metrics").body)
        #expect((afterLookup.value("hosttrail_collector_api_requests_total", ["action": "LookupEvents", "status": "200"]) ?? 0) >= 1)

        // Health on the metrics listener.
        #expect(try scrape(fleet.collectorMetricsURL + "/healthz").status == 200)
        #expect(try scrape(fleet.collectorMetricsURL + "/nope").status == 404)

        checkNames(
            agent, daemon: "agent",
            allowedValues: [
                "reason": ["spool_full", "corrupt"], "outcome": ["delivered", "retry"], "version": [HostTrailVersion.current],
                "source": ["socket", "agent", "dead-letter"],
            ])
        checkNames(
            afterLookup, daemon: "collector",
            allowedValues: [
                "host": ["web-01"], "version": [HostTrailVersion.current], "action": ["LookupEvents"], "status": ["200"],
            ])

        // The node_exporter textfile holds the same families, whole.
        let deadlineForFile = Date().addingTimeInterval(20)
        var written = try Exposition("")
        while Date() < deadlineForFile {
            written = try Exposition((try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "")
            if (written.value("hosttrail_agent_spool_received_records_total") ?? 0) >= 2000 { break }
            usleep(200_000)
        }
        #expect(Set(written.types.keys) == Set(agent.types.keys))
        #expect((written.value("hosttrail_agent_spool_received_records_total") ?? 0) >= 2000)
    }

    @Test func theCollectorIsNotReadyWhenItsDiskIsShort() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        // More free space asked for than any disk here has.
        try fleet.startCollector(extra: ["--min-free-disk-mb", "10000000"])
        let ready = try scrape(fleet.collectorMetricsURL + "/readyz")
        #expect(ready.status == 503 && ready.body.contains("MiB free for the data directory"), "\(ready)")
        // The same on the main listener, which a load balancer probes (the status alone: anyone may ask there).
        let main = try Command.run(
            "curl", ["-sS", "--cacert", fleet.certificates + "/ca.pem", "-w", "\n%{http_code}", fleet.collectorURL + "/readyz"])
        #expect(main.stdout.hasSuffix("\n503"), "\(main)")
        #expect(try scrape(fleet.collectorMetricsURL + "/healthz").status == 200)
    }

    @Test func withLogFormatJSONEveryLineIsOneObjectWithStableKeys() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let agent = try fleet.startAgent("web-01", extra: ["--log-format", "json"])
        try fleet.waitForReady()
        #expect(try fleet.post(#"{"eventName":"Logged"}"#).status == 202)
        #expect(agent.stop() == 0)
        let lines = agent.log.split(separator: "\n")
        #expect(lines.count >= 4, "\(agent.log)")
        for line in lines {
            let object = try JSONValue.parse(Array(line.utf8))
            #expect(object["time"]?.stringValue != nil && object["level"]?.stringValue != nil && object["msg"]?.stringValue != nil, "\(line)")
            #expect(object["logger"] == "hosttrail-agent")
        }
        let stopping = lines.compactMap { try? JSONValue.parse(Array($0.utf8)) }.first { $0["msg"] == "agent stopping" }
        #expect(stopping?["spool.received"]?.stringValue.flatMap(Int.init) ?? 0 >= 2, "\(agent.log)")
    }
}
