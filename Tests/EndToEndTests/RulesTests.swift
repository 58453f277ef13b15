// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation
import Synchronization
import Testing
import TrailCore
import TrailTestSupport

extension HostJournalSuites {
    /// Rules on real activity: failed SSH logins against a real sshd, read from the journal by a real
    /// agent, fire the shipped brute-force rule once per address; its webhook reaches a real HTTPS
    /// receiver that answers 500 twice first, signed, under one idempotency key; a crash in the
    /// middle of a window and another between a match and its delivery lose and repeat nothing.
    @Suite(.serialized, .endToEnd)
    struct RulesTests {
        /// A webhook receiver of the test's own (Tests/Support/webhook-receiver.py) on `port` (0: a free one).
        final class Receiver {
            let process: TestProcess
            let port: Int
            let log: String

            init(fleet: Fleet, port: Int = 0, failFirst: Int) throws {
                log = fleet.directory.file("webhooks.jsonl")
                process = try TestProcess(
                    "/usr/bin/python3",
                    [
                        TestBinaries.packageRoot() + "/Tests/Support/webhook-receiver.py", "--cert", fleet.certificates + "/collector.pem", "--key",
                        fleet.certificates + "/collector-key.pem", "--log", log, "--port", "\(port)", "--fail-first", "\(failFirst)",
                    ], logPath: fleet.directory.file("receiver-\(UUID().uuidString.prefix(4)).log"))
                self.port = try #require(Int(try process.waitForLog(#"^(\d+)"#)))
            }

            /// Each request received so far: its headers (lowercased names), body and the status answered.
            func requests() throws -> [(headers: [String: String], body: Data, status: Int)] {
                guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
                return try text.split(separator: "\n").map { line in
                    let entry = try JSONValue.parse(Array(line.utf8))
                    let headers = (entry["headers"]?.objectValue ?? [:]).reduce(into: [String: String]()) {
                        $0[$1.key.lowercased()] = $1.value.stringValue
                    }
                    return (headers, Data(base64Encoded: entry["body"]?.stringValue ?? "") ?? Data(), Int(entry["status"]?.integerValue ?? 0))
                }
            }

            func waitFor(timeout: TimeInterval, _ done: ([(headers: [String: String], body: Data, status: Int)]) -> Bool) throws -> [(
                headers: [String: String], body: Data, status: Int
            )] {
                let deadline = Date().addingTimeInterval(timeout)
                var requests = try requests()
                while !done(requests), Date() < deadline {
                    usleep(200_000)
                    requests = try self.requests()
                }
                return requests
            }
        }

        /// Failed password logins for `user` from `address` (a loopback address of its own), one
        /// prompt each, so each connection is one failed login.
        static func failLogins(_ count: Int, user: String, from address: String, port: Int) throws {
            for _ in 0..<count {
                let result = try Command.run(
                    "sshpass",
                    [
                        "-p", "wrong-password", "ssh", "-p", "\(port)", "-o", "BindAddress=\(address)", "-o", "NumberOfPasswordPrompts=1",
                        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
                        "-o", "PubkeyAuthentication=no", "-o", "LogLevel=ERROR", "\(user)@127.0.0.1", "true",
                    ], timeout: 30, unblockingSignals: true)
                #expect(result.status != 0, "a wrong password logged in: \(result)")
            }
        }

        /// The stored `rules.hosttrail` records named `name`, once `done` holds (or the timeout).
        static func ruleRecords(_ fleet: Fleet, _ name: String, timeout: TimeInterval, until done: ([CloudTrailRecord]) -> Bool) throws
            -> [CloudTrailRecord]
        {
            let deadline = Date().addingTimeInterval(timeout)
            var found: [CloudTrailRecord] = []
            repeat {
                found = try fleet.storedRecords(sourceSuffix: "rules.hosttrail").filter { $0.eventName == name }
                if done(found) { return found }
                usleep(200_000)
            } while Date() < deadline
            return found
        }

        static func matches(_ records: [CloudTrailRecord], rule: String, address: String) -> [CloudTrailRecord] {
            records.filter {
                $0.requestParameters?["ruleName"]?.stringValue == rule
                    && $0.requestParameters?["groupBy"]?["detail.sourceIPAddress"]?.stringValue == address
            }
        }

        @Test func bruteForceFiresOncePerAddressAndItsWebhookIsDeliveredOnceAcrossFailuresAndCrashes() throws {
            try HostActivityTests.Account.check(
                Command.run("bash", [TestBinaries.packageRoot() + "/scripts/host-services.sh"], startsDaemons: true))
            let fleet = try Fleet(hosts: ["web-01"])
            let account = HostActivityTests.Account()
            try account.create()
            defer { account.deleteIfPresent() }
            var receiver = try Receiver(fleet: fleet, failFirst: 2)
            defer { _ = receiver.process.stop() }

            // The shipped rule with a webhook and a log line; a dry-run copy with the same webhook;
            // a broken file beside them.
            let secret = "webhook-secret-\(UInt32.random(in: 0..<UInt32.max))"
            try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: fleet.directory.file("webhook.key")))
            let rules = fleet.directory.file("rules")
            try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
            let shipped = try String(contentsOfFile: TestBinaries.packageRoot() + "/packaging/rules/ssh-brute-force.yml", encoding: .utf8)
            let webhook = """
                  - webhook:
                      url: https://127.0.0.1:\(receiver.port)/hook
                      secret-file: \(fleet.directory.file("webhook.key"))
                      ca-file: \(fleet.certificates)/ca.pem

                """
            try Data((shipped + "actions:\n" + webhook + "  - log: {priority: warning}\n").utf8).write(
                to: URL(fileURLWithPath: rules + "/ssh-brute-force.yml"))
            try Data(
                (shipped.replacingOccurrences(of: "name: ssh-brute-force", with: "name: dry-run-copy") + "mode: dry-run\nactions:\n" + webhook).utf8
            )
            .write(to: URL(fileURLWithPath: rules + "/dry-run-copy.yml"))
            try Data("match:\n  detail:\n    eventName: [{colour: red}]\n".utf8).write(to: URL(fileURLWithPath: rules + "/broken.yml"))
            // The same brute force as a Sigma correlation rule, unchanged Sigma.
            try Data(
                """
                title: Failed SSH login
                name: sigma-sshd-failed
                logsource: {product: linux, service: sshd}
                detection:
                  selection:
                    outcome|exists: true
                  condition: selection
                ---
                title: SSH brute force
                name: sigma-ssh-brute-force
                correlation:
                  type: event_count
                  rules: sigma-sshd-failed
                  group-by: [client_ip]
                  timespan: 10m
                  condition: {gte: 5}

                """.utf8
            ).write(to: URL(fileURLWithPath: rules + "/sigma-ssh-brute-force.yml"))

            // validate names the broken file and its line; --ignore-rules (the unit's ExecStartPre) does not.
            let validate = [
                "validate", "--tls-cert", fleet.certificates + "/collector.pem", "--tls-key", fleet.certificates + "/collector-key.pem",
                "--client-ca", fleet.certificates + "/ca.pem", "--data-dir", fleet.directory.file("collector"), "--rules-dir", rules,
            ]
            let refused = try Command.run(TestBinaries.collector, validate)
            #expect(
                refused.status == 1 && refused.stderr.contains("broken.yml: line 3: match: detail.eventName[0]: unknown operator colour"),
                "\(refused)")
            let ignored = try Command.run(TestBinaries.collector, validate + ["--ignore-rules"])
            #expect(ignored.status == 0 && ignored.stdout.contains("rules not checked"), "\(ignored)")

            let flags = ["--rules-dir", rules, "--no-insights"]
            try fleet.startCollector(extra: flags)
            let port = try #require(Int(fleet.collectorURL.split(separator: ":").last ?? ""))
            _ = try #require(fleet.collector).waitForLog(#"broken\.yml: (line 3: match: detail\.eventName\[0\]: unknown operator colour)"#)
            _ = try #require(fleet.collector).waitForLog(#"rules\.count=(3) rules\.dir=.* rules\.refused=1"#)
            try fleet.startAgent(extra: ["--journal", "--read-from", "end"])
            try fleet.waitForReady()
            let (sshd, sshPort) = try HostActivityTests.startSSHD(directory: fleet.directory)
            defer { _ = sshd.stop() }

            // Five failures from each of two addresses at once: one firing each, counting five.
            let addresses = ["127.0.0.2", "127.0.0.3"]
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: addresses.count) { index in
                do { try Self.failLogins(5, user: account.name, from: addresses[index], port: sshPort) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            let matched = try Self.ruleRecords(fleet, "RuleMatched", timeout: 60) { $0.count >= 6 }
            for address in addresses {
                let match = Self.matches(matched, rule: "ssh-brute-force", address: address)
                #expect(match.count == 1, "\(matched)")
                #expect(match.first?.requestParameters?["count"] == 5)
                #expect(match.first?.requestParameters?["matchedEvents"]?.arrayValue?.count == 5)
                #expect(Self.matches(matched, rule: "dry-run-copy", address: address).count == 1)
                let sigma = Self.matches(matched, rule: "sigma-ssh-brute-force", address: address)
                #expect(sigma.count == 1 && sigma.first?.requestParameters?["count"] == 5, "\(matched)")
            }
            let logins = try fleet.storedRecords(sourceSuffix: ".linux").filter { $0.eventName == "Login" && $0.errorCode != nil }
            #expect(logins.filter { $0.sourceIPAddress == "127.0.0.2" }.count == 5, "one failed login a connection")

            // Each delivery: 500, 500, then 200, under one idempotency key (the match's ID and the
            // action's place), each request signed over its timestamp and body.
            let delivered = try receiver.waitFor(timeout: 60) { requests in requests.filter { $0.status == 200 }.count >= 2 }
            #expect(delivered.count == 6, "\(delivered.map(\.status))")
            let byKey = Dictionary(grouping: delivered) { $0.headers["idempotency-key"] ?? "" }
            let enforced = matched.filter { $0.requestParameters?["ruleName"] == "ssh-brute-force" }
            #expect(Set(byKey.keys) == Set(enforced.map { "\($0.eventID)/0" }))
            for (key, requests) in byKey {
                #expect(requests.map(\.status) == [500, 500, 200], "\(key)")
                for request in requests {
                    #expect(request.headers["x-hosttrail-rule"] == "ssh-brute-force")
                    let signature = try #require(request.headers["x-hosttrail-signature"])
                    let parts = Dictionary(
                        uniqueKeysWithValues: signature.split(separator: ",").map { ($0.prefix { $0 != "=" }, $0.drop { $0 != "=" }.dropFirst()) })
                    let timestamp = try #require(parts["t"].map(String.init))
                    let mac = HMAC<SHA256>.authenticationCode(
                        for: Data("\(timestamp).".utf8) + request.body, using: SymmetricKey(data: Data(secret.utf8)))
                    #expect(parts["v1"].map(String.init) == mac.map { String(format: "%02x", $0) }.joined(), "signature")
                    #expect(abs((Double(timestamp) ?? 0) - Date().timeIntervalSince1970) < 120)
                    let body = try JSONValue.parse(Array(request.body))
                    #expect(body["detail-type"] == "AWS Service Event via CloudTrail" && body["detail"]?["eventName"] == "RuleMatched")
                    #expect(body["matchedRecords"]?.arrayValue?.count == 5)
                }
            }
            // Every attempt is a record: three per delivery, the first two failed; one log line each.
            let invoked = try Self.ruleRecords(fleet, "InvokeAction", timeout: 10) { $0.count >= 8 }
            let webhookAttempts = invoked.filter { $0.requestParameters?["action"] == "webhook" }
            #expect(webhookAttempts.count == 6)
            #expect(webhookAttempts.filter { $0.errorCode == "HTTP500" }.count == 4 && webhookAttempts.filter { $0.errorCode == nil }.count == 2)
            #expect(invoked.filter { $0.requestParameters?["action"] == "log" && $0.errorCode == nil }.count == 2)
            #expect(fleet.collector?.log.contains("rule ssh-brute-force matched") == true)

            // The broken file mended and the collector told: four rules in force.
            try Data("match:\n  detail:\n    eventName: [Nothing]\n".utf8).write(to: URL(fileURLWithPath: rules + "/broken.yml"))
            kill(try #require(fleet.collector).pid, SIGHUP)
            _ = try #require(fleet.collector).waitForLog(#"rules\.count=(4) rules\.dir=.* rules\.refused=0"#)

            // A crash in the middle of a window: three failures, the collector killed, two more.
            receiver.process.crash()
            try Self.failLogins(3, user: account.name, from: "127.0.0.4", port: sshPort)
            let deadline = Date().addingTimeInterval(30)
            while try fleet.storedRecords(sourceSuffix: ".linux").filter({ $0.sourceIPAddress == "127.0.0.4" }).count < 3, Date() < deadline {
                usleep(200_000)
            }
            try #require(fleet.collector).crash()
            try fleet.startCollector(port: port, extra: flags)
            try Self.failLogins(2, user: account.name, from: "127.0.0.4", port: sshPort)
            let afterCrash = try Self.ruleRecords(fleet, "RuleMatched", timeout: 60) {
                !Self.matches($0, rule: "ssh-brute-force", address: "127.0.0.4").isEmpty
            }
            let match = try #require(Self.matches(afterCrash, rule: "ssh-brute-force", address: "127.0.0.4").first, "\(afterCrash)")
            #expect(match.requestParameters?["count"] == 5, "the three before the crash were not forgotten")

            // A crash between the match and its delivery (the receiver is down: an attempt fails),
            // then the receiver back on its port: delivered once, under the same key.
            _ = try Self.ruleRecords(fleet, "InvokeAction", timeout: 30) {
                $0.contains { $0.requestParameters?["matchEventID"]?.stringValue == match.eventID && $0.errorCode == "DeliveryFailed" }
            }
            try #require(fleet.collector).crash()
            receiver = try Receiver(fleet: fleet, port: receiver.port, failFirst: 0)
            try fleet.startCollector(port: port, extra: flags)
            let final = try receiver.waitFor(timeout: 60) { requests in requests.contains { $0.headers["idempotency-key"] == "\(match.eventID)/0" } }
            #expect(final.filter { $0.headers["idempotency-key"] == "\(match.eventID)/0" }.map(\.status) == [200])
            let all = try Self.ruleRecords(fleet, "RuleMatched", timeout: 0) { _ in true }
            #expect(Self.matches(all, rule: "ssh-brute-force", address: "127.0.0.4").count == 1, "stored once across two crashes")
            #expect(Set(all.map(\.eventID)).count == all.count)

            // The CLI's view: the rules with their counts, the jobs with their states.
            let listed = try fleet.cli("rules list", ["--output", "json"])
            let rulesAnswer = try JSONValue.parse(Array(listed.stdout.utf8))
            let bruteForce = rulesAnswer["Rules"]?.arrayValue?.first { $0["Name"] == "ssh-brute-force" }
            #expect(bruteForce?["Window"] == "event_count 10m" && bruteForce?["Mode"] == "enforce", "\(listed)")
            #expect((bruteForce?["Fired"]?.integerValue ?? 0) >= 1 && bruteForce?["LastFired"] != .null, "\(listed)")
            let table = try fleet.cli("actions list", [])
            #expect(table.stdout.contains("ssh-brute-force") && table.stdout.contains("succeeded"), "\(table)")
        }
    }
}
