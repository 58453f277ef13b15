// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

extension HostJournalSuites {
    /// Insights on real activity: a collector that learnt a host's failed-login rate from history
    /// delivered with past event times sees a burst of real failed SSH logins (a real sshd, read from
    /// the journal by a real agent) as unusual, writes it as a CloudTrail Insight the stock AWS CLI
    /// reads back, and ends it once, across a SIGKILL while it is open.
    @Suite(.serialized, .endToEnd)
    struct InsightsTests {
        /// Thresholds for a test that cannot wait a day: an hour of history suffices, one unusual
        /// minute opens an Insight and one ordinary minute closes it.
        static let insightFlags = [
            "--insights-min-history", "60m", "--insights-window-days", "1", "--insights-grace", "2s", "--insights-start-minutes", "1",
            "--insights-end-minutes", "1", "--log-file-interval", "2s",
            "--access-key", "\(CloudTrailAPITests.keyID):\(CloudTrailAPITests.secret)",
        ]

        /// The Insight records the stock AWS CLI finds, once `done` holds for them (or the timeout).
        static func insights(_ fleet: Fleet, timeout: TimeInterval, until done: ([CloudTrailRecord]) -> Bool) throws -> [CloudTrailRecord] {
            let deadline = Date().addingTimeInterval(timeout)
            var records: [CloudTrailRecord] = []
            repeat {
                let events = try CloudTrailAPITests.events(CloudTrailAPITests.aws(fleet, ["lookup-events", "--event-category", "insight"]))
                records = try events.map { try CloudTrailRecord.decode(from: Data(try #require($0["CloudTrailEvent"]?.stringValue).utf8)) }
                if done(records) { return records }
                Thread.sleep(forTimeInterval: 1)
            } while Date() < deadline
            return records
        }

        /// The host-scope error-rate Insight on failed logins, by state.
        static func hostLoginFailures(_ records: [CloudTrailRecord], state: String) -> [CloudTrailRecord] {
            records.filter {
                $0.insightDetails?["state"]?.stringValue == state && $0.insightDetails?["insightType"] == "ApiErrorRateInsight"
                    && $0.insightDetails?["eventName"] == "Login" && $0.insightDetails?["errorCode"] == "AuthFailure"
                    && $0.insightDetails?["hostTrail"]?["scope"] == "host" && $0.insightDetails?["hostTrail"]?["host"] == "web-01"
            }
        }

        @Test func aBurstOfFailedSSHLoginsIsAnInsightTheAWSCLIReadsAndItEndsOnceAcrossACrash() throws {
            try HostActivityTests.Account.check(
                Command.run("bash", [TestBinaries.packageRoot() + "/scripts/host-services.sh"], startsDaemons: true))
            let fleet = try Fleet(hosts: ["web-01"])
            try fleet.startCollector(extra: Self.insightFlags)
            let account = HostActivityTests.Account()
            try account.create()
            defer { account.deleteIfPresent() }

            // An hour and a half of history: one failed login a minute, delivered with its past times.
            let now = Int64(Date().timeIntervalSince1970) / 60
            let history = try ActivityHistory.failedLogins(
                host: "web-01", user: account.name, address: "127.0.0.1", minutes: (now - 90)..<now, perMinute: { _ in 1 })
            for batch in try ActivityHistory.batches(history) {
                let file = fleet.directory.file("history.json")
                try batch.write(to: URL(fileURLWithPath: file))
                let answer = try fleet.deliver(["--data-binary", "@" + file])
                #expect(answer.stdout.hasSuffix("\n200"), "\(answer)")
            }
            // History delivered late is in the store, not in the running count: a restart resumes from the store.
            try #require(fleet.collector?.stop() == 0)
            try fleet.startCollector(extra: Self.insightFlags)
            let resumed = try #require(fleet.collector).waitForLog(#"insights\.keys=(\d+) insights\.records=0 .*Insights resumed from the store"#)
            #expect(Int(resumed) == 7, "fleet, host and user, each for the call rate and the error rate; and the host's activity")
            let port = try #require(Int(fleet.collectorURL.split(separator: ":").last ?? ""))

            try fleet.startAgent(extra: ["--journal", "--read-from", "end"])
            try fleet.waitForReady()
            let (sshd, sshPort) = try HostActivityTests.startSSHD(directory: fleet.directory)
            defer { _ = sshd.stop() }

            // The burst fills one whole minute: wrong passwords from four clients at once.
            let second = Date().timeIntervalSince1970
            let burstStart = (second / 60).rounded(.up) * 60
            Thread.sleep(forTimeInterval: burstStart - second)
            let attempts = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                while Date().timeIntervalSince1970 < burstStart + 57 {
                    _ = try? HostActivityTests.ssh(account.name, password: "wrong-password", port: sshPort)
                    attempts.withLock { $0 += 1 }
                }
            }
            let burstMinute = Int64(burstStart) / 60
            let started = try Self.insights(fleet, timeout: 45) { !Self.hostLoginFailures($0, state: "Start").isEmpty }
            let start = try #require(Self.hostLoginFailures(started, state: "Start").first, "\(attempts.withLock { $0 }) attempts; \(started)")
            #expect(start.eventTime == TrailTime.formatEpochSeconds(burstMinute * 60))
            #expect(
                start.eventSource == nil && start.eventName == nil && start.eventType == "AwsCloudTrailInsight" && start.eventCategory == "Insight")
            let statistics = try #require(start.insightDetails?["insightContext"]?["statistics"])
            func number(_ value: JSONValue?) -> Double { if case .number(let n)? = value { n } else { -1 } }
            // One a minute, and the quiet minutes between the history and the burst.
            #expect((0.8...1).contains(number(statistics["baseline"]?["average"])), "\(statistics)")
            #expect(number(statistics["insight"]?["average"]) >= 5, "\(statistics)")
            let attributions = start.insightDetails?["insightContext"]?["attributions"]?.arrayValue ?? []
            let addresses = attributions.first { $0["attribute"] == "sourceIPAddress" }?["insight"]?.arrayValue ?? []
            #expect(addresses.first?["value"] == "127.0.0.1", "\(attributions)")

            // Killed while the Insight is open: after the restart it is decided open again, stored
            // once, and ends once.
            try #require(fleet.collector).crash()
            try fleet.startCollector(port: port, extra: Self.insightFlags)
            let ended = try Self.insights(fleet, timeout: 150) { !Self.hostLoginFailures($0, state: "End").isEmpty }
            let end = try #require(Self.hostLoginFailures(ended, state: "End").first, "\(ended)")
            #expect(Self.hostLoginFailures(ended, state: "Start").count == 1 && Self.hostLoginFailures(ended, state: "End").count == 1)
            #expect(end.sharedEventID == start.sharedEventID && end.eventID != start.eventID)
            // At the close of the burst's last minute, or of the next when attempts still under way
            // kept it at twice the baseline.
            let endTimes = [1, 2].map { TrailTime.formatEpochSeconds((burstMinute + $0) * 60) }
            #expect(endTimes.contains(end.eventTime), "\(end.eventTime)")
            #expect(Set(ended.map(\.eventID)).count == ended.count, "every Insight record once")

            // Insights stay out of ordinary lookups, and are archived apart, each record once.
            let logins = try CloudTrailAPITests.events(
                CloudTrailAPITests.aws(fleet, ["lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=Login"]))
            #expect(!logins.isEmpty && logins.allSatisfy { ($0["CloudTrailEvent"]?.stringValue ?? "").contains("AwsCloudTrailInsight") == false })
            let archive = fleet.directory.file("collector/archive")
            var archived: [String] = []
            for _ in 0..<30 {
                archived = try Command.run(
                    "bash",
                    ["-c", "find \(archive) -path '*/CloudTrail-Insight/*.json.gz' -exec gzip -dc {} + | grep -o '\"eventID\":\"[^\"]*\"' | sort"]
                ).stdout.split(separator: "\n").map(String.init)
                if archived.count >= ended.count { break }
                Thread.sleep(forTimeInterval: 1)
            }
            #expect(archived.count == ended.count && Set(archived).count == archived.count, "\(archived)")

            // The series in CloudTrail's shape: the burst minute against the quiet ones around it.
            let series = try CloudTrailAPITests.aws(
                fleet,
                [
                    "list-insights-metric-data", "--event-source", "sshd.linux", "--event-name", "Login", "--insight-type", "ApiErrorRateInsight",
                    "--error-code", "AuthFailure", "--period", "60", "--start-time", "\((burstMinute - 2) * 60)", "--end-time",
                    "\((burstMinute + 1) * 60)",
                ])
            let metric = try JSONValue.parse(Array(series.stdout.utf8))
            #expect(metric["Timestamps"]?.arrayValue?.count == 4, "\(series)")
            let values = (metric["Values"]?.arrayValue ?? []).map(number)
            #expect(values.count == 4 && values[2] >= 5 && values[2] > values[0] * 3, "\(series)")

            // hosttrail insights lists it and shows it, its bars and its events.
            let shared = try #require(start.sharedEventID)
            let listed = try fleet.cli("insights", [])
            #expect(listed.status == 0 && listed.stdout.contains("host web-01") && listed.stdout.contains(shared), "\(listed)")
            let shown = try fleet.cli("insights", ["--show", shared])
            #expect(shown.status == 0, "\(shown)")
            #expect(shown.stdout.contains("scope: host web-01") && shown.stdout.contains("sourceIPAddress: 127.0.0.1"), "\(shown.stdout)")
            #expect(shown.stdout.contains(" * █") && shown.stdout.contains("AuthFailure"), "\(shown.stdout)")
            _ = sshd.stop()
        }

        /// A host whose agent is SIGKILLed and kept down falls silent without saying so: `HostSilent`.
        /// One stopped with SIGTERM said so (`AgentStopped`): not silent, decided at the same minute.
        @Test func aKilledAgentsHostIsSilentAndAStoppedOnesIsNot() throws {
            let fleet = try Fleet(hosts: ["web-01", "web-02"])
            try fleet.startCollector(extra: Self.insightFlags)
            let port = try #require(Int(fleet.collectorURL.split(separator: ":").last ?? ""))
            var feeders: [String: EventFeeder] = [:]
            for host in ["web-01", "web-02"] {
                try fleet.startAgent(host)
                let feeder = EventFeeder(socket: fleet.socketPath(host), interval: 2)
                feeder.start()
                feeders[host] = feeder
            }
            // Ninety minutes of 30 calls a minute on each host, then a restart to count them.
            let now = Int64(Date().timeIntervalSince1970) / 60
            for host in ["web-01", "web-02"] {
                for batch in try ActivityHistory.batches(ActivityHistory.applicationCalls(host: host, minutes: (now - 90)..<now, perMinute: 30)) {
                    let file = fleet.directory.file("history.json")
                    try batch.write(to: URL(fileURLWithPath: file))
                    let answer = try fleet.deliver(["--data-binary", "@" + file], as: host)
                    #expect(answer.stdout.hasSuffix("\n200"), "\(answer)")
                }
            }
            try #require(fleet.collector?.stop() == 0)
            try fleet.startCollector(port: port, extra: Self.insightFlags)
            _ = try #require(fleet.collector).waitForLog("Insights resumed from the store")

            // Both stop early in one minute, so the next one is empty for both and decided at one close.
            let second = Date().timeIntervalSince1970
            Thread.sleep(forTimeInterval: (second / 60).rounded(.up) * 60 + 2 - second)
            _ = feeders["web-01"]?.stop()
            try #require(fleet.agents["web-01"]).crash()
            _ = feeders["web-02"]?.stop()
            #expect(try #require(fleet.agents["web-02"]).stop() == 0)

            func silent(_ records: [CloudTrailRecord], _ host: String) -> [CloudTrailRecord] {
                records.filter { $0.insightDetails?["insightType"] == "HostSilent" && $0.insightDetails?["hostTrail"]?["host"] == .string(host) }
            }
            let records = try Self.insights(fleet, timeout: 150) { !silent($0, "web-01").isEmpty }
            let start = try #require(silent(records, "web-01").first, "\(records)")
            #expect(start.insightDetails?["state"] == "Start" && start.insightDetails?["eventName"] == "HostSilent")
            #expect(start.insightDetails?["hostTrail"]?["direction"] == "silent")
            #expect(silent(records, "web-02").isEmpty, "\(records)")
            let stopped = try fleet.records(["--event-name", "AgentStopped", "--host", "web-02"], atLeast: 1)
            #expect(stopped.count == 1)
        }
    }
}
