// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// Host responses on real kernels and real accounts: machines in network namespaces the test
/// makes, each with its own sshd, syslog and agent; an attacker machine and a bystander; the
/// collector on the network's bridge. The fleet rule sees what no single host can, the hosts
/// block in nftables, the packets are dropped, and the bans end in the kernel on time.
@Suite(.serialized, .endToEnd)
struct ResponsesTests {
    /// The fleet: a network of `machines`, a collector on its bridge with `rules`, an sshd and an
    /// agent on each of `hosts` with the response definitions `responses`.
    final class ResponseFleet: @unchecked Sendable {
        let network: TestNetwork
        let fleet: Fleet
        var machines: [String: TestMachine] = [:]
        let responsesDirectory: String
        let hostRulesDirectory: String
        let rulesDirectory: String

        /// `rules` and `responses` are given the network, for its addresses.
        init(
            hosts: [String], others: [String], rules: (TestNetwork) -> [String: String], responses: (TestNetwork) -> [String: String],
            hostRules: [String: String] = [:]
        ) throws {
            network = try TestNetwork(machines: hosts + others)
            do {
                fleet = try Fleet(hosts: hosts, collectorNames: [network.gateway])
            } catch {
                network.remove()
                throw error
            }
            responsesDirectory = fleet.directory.file("responses.d")
            hostRulesDirectory = fleet.directory.file("host-rules.d")
            rulesDirectory = fleet.directory.file("rules.d")
            do {
                for folder in [rulesDirectory, responsesDirectory, hostRulesDirectory] {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
                for (name, text) in rules(network) { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(rulesDirectory)/\(name).yml")) }
                for (name, text) in hostRules { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(hostRulesDirectory)/\(name).json")) }
                for (name, text) in responses(network) { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(responsesDirectory)/\(name).toml")) }
                try startCollector()
                for host in hosts {
                    machines[host] = try TestMachine(host, network: network, directory: fleet.directory)
                    try startAgent(host)
                }
                try waitForHosts(hosts)
            } catch {
                stop()
                throw error
            }
        }

        /// On the port it had before, when it had one (the agents keep their URL).
        func startCollector() throws {
            let port = fleet.collectorURL.split(separator: ":").last.flatMap { Int($0) } ?? 0
            try fleet.startCollector(port: port, listenHost: network.gateway, extra: ["--rules-dir", rulesDirectory])
        }

        @discardableResult
        func startAgent(_ host: String) throws -> TestProcess {
            try fleet.startAgent(
                host,
                extra: [
                    "--tail-file", machines[host]!.authLog, "--read-from", "beginning", "--responses-dir", responsesDirectory, "--host-rules-dir",
                    hostRulesDirectory,
                ],
                namespace: network.namespace(host))
        }

        /// Until every host's agent has polled the collector for requests.
        func waitForHosts(_ hosts: [String]) throws {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let answer = try list()
                let polling = Set((answer["Hosts"]?.arrayValue ?? []).compactMap { $0["Host"]?.stringValue })
                if polling.isSuperset(of: hosts) { return }
                usleep(100_000)
            }
            throw TestProcess.Failure(description: "agents did not poll for responses: \(fleet.agentLogs())")
        }

        func list() throws -> JSONValue {
            let result = try fleet.cli("responses list", ["--output", "json"])
            guard result.status == 0 else { throw TestProcess.Failure(description: "responses list: \(result)") }
            return try JSONValue.parse(Data(result.stdout.utf8))
        }

        /// Fails one SSH login from `attacker` on `host`.
        func failLogin(on host: String, from attacker: String) throws {
            let status = try TestMachine.ssh("nosuchuser", password: "wrong", to: network.address(host), from: attacker, network: network)
            #expect(status != 0)
        }

        /// `responses.hosttrail` records named `eventName` stored, decoded.
        func stored(_ eventName: String) throws -> [CloudTrailRecord] {
            try fleet.storedRecords(eventName: eventName).filter { $0.eventSource == ResponseRecordBuilder.eventSource }
        }

        func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while try !condition() {
                guard Date() < deadline else { throw TestProcess.Failure(description: "timed out waiting for \(what)\n\(fleet.agentLogs())") }
                usleep(50_000)
            }
        }

        func stop() {
            for agent in fleet.agents.values { _ = agent.stop() }
            _ = fleet.collector?.stop()
            for machine in machines.values { machine.stop() }
            network.remove()
            fleet.directory.remove()
        }
    }

    static func blockDefinition(allow: String) -> String {
        """
        kind = "block-address"
        default-duration = "10s"
        max-duration = "1m"
        escalate = ["10s", "1m"]
        allow = ["\(allow)"]

        """
    }

    /// One address failing SSH logins on two hosts: blocked on every host.
    static let fleetRule = """
        name: fleet-ssh-guessing
        match:
          detail:
            eventSource: [sshd.linux]
            eventName: [Login]
            errorCode: [{exists: true}]
        window:
          type: value_count
          field: detail.additionalEventData.host.hostname
          group-by: [detail.sourceIPAddress]
          timespan: 10m
          condition: {gte: 2}
        suppress: 10m
        actions:
          - respond:
              response: block-attacker
              hosts: all
              arguments: {address: detail.sourceIPAddress}
              duration: 12s

        """

    @Test func anAddressFailingOnTwoHostsIsDroppedOnBothUntilTheBanEnds() throws {
        // Beside the fleet rule, one asking web-01 for a response no host defines and for a block
        // of the bystander, whom the hosts' allow-list protects: both refused and recorded.
        let setUp = try ResponseFleet(
            hosts: ["web-01", "web-02"], others: ["attacker", "bystander"],
            rules: { network in
                [
                    "fleet": Self.fleetRule,
                    "impossible": """
                    name: ask-the-impossible
                    match:
                      detail:
                        eventSource: [sshd.linux]
                        eventName: [Login]
                        errorCode: [{exists: true}]
                        additionalEventData: {host: {hostname: [web-01]}}
                    suppress: 10m
                    actions:
                      - respond: {response: no-such-response, arguments: {address: detail.sourceIPAddress}}
                      - respond: {response: block-attacker, arguments: {address: \(network.address("bystander"))}}

                    """,
                ]
            },
            responses: { network in ["block-attacker": Self.blockDefinition(allow: network.address("bystander"))] })
        defer { setUp.stop() }
        let network = setUp.network
        for host in ["web-01", "web-02"] {
            #expect(try network.connects(from: "attacker", to: network.address(host), port: 22), "before any response")
        }

        // One failure on each host: below any per-host threshold, two hosts for the fleet.
        try setUp.failLogin(on: "web-01", from: "attacker")
        try setUp.failLogin(on: "web-02", from: "attacker")
        let crossed = Date()
        try setUp.waitFor("the attacker blocked on both hosts") {
            try ["web-01", "web-02"].allSatisfy { try !network.connects(from: "attacker", to: network.address($0), port: 22, within: 0.5) }
        }
        let blockedAfter = Date().timeIntervalSince(crossed)
        let blockedAt = Date()
        // Dropped for the attacker only: the bystander still connects to both.
        for host in ["web-01", "web-02"] {
            #expect(try network.connects(from: "bystander", to: network.address(host), port: 22), "\(host) blocks only the attacker")
        }
        #expect(blockedAfter < 10, "blocked \(blockedAfter) s after the second failure")

        // Every step recorded: asked by the collector, performed by each host, with the rule and events.
        let attacker = network.address("attacker")
        try setUp.waitFor("BlockAddress records from both hosts") {
            Set(try setUp.stored("BlockAddress").filter { $0.errorCode == nil }.compactMap(\.claimedHostName)) == ["web-01", "web-02"]
        }
        for record in try setUp.stored("BlockAddress").filter({ $0.errorCode == nil }) {
            #expect(record.requestParameters?["arguments"]?["address"]?.stringValue == attacker)
            #expect(record.requestParameters?["ruleName"]?.stringValue == "fleet-ssh-guessing")
            #expect(record.requestParameters?["triggeringEventIds"]?.arrayValue?.count == 2)
            #expect(record.responseElements?["durationSeconds"]?.integerValue == 10, "the host's escalation: first offence 10 s")
        }
        let requested = try setUp.stored("RequestResponse")
        #expect(requested.filter { $0.requestParameters?["ruleName"]?.stringValue == "fleet-ssh-guessing" }.count == 2)

        // Refused: the undefined response and the allow-listed bystander, on web-01, recorded there.
        try setUp.waitFor("the refusals recorded") {
            let refused = try setUp.stored("PerformResponse") + setUp.stored("BlockAddress").filter { $0.errorCode != nil }
            return Set(refused.compactMap(\.errorCode)) == ["UnknownResponse", "AllowListed"]
        }
        let states = try setUp.list()["Requests"]?.arrayValue ?? []
        #expect(states.filter { $0["State"]?.stringValue == "refused" }.count == 2, "\(states)")

        // The ban ends in the kernel after its 10 s; the agents record the end.
        try setUp.waitFor("the attacker accepted again", timeout: 30) {
            try ["web-01", "web-02"].allSatisfy { try network.connects(from: "attacker", to: network.address($0), port: 22, within: 0.5) }
        }
        let endedAfter = Date().timeIntervalSince(blockedAt)
        #expect(endedAfter > 7 && endedAfter < 16, "the 10 s ban ended after \(endedAfter) s")
        try setUp.waitFor("UnblockAddress records from both hosts") {
            Set(try setUp.stored("UnblockAddress").compactMap(\.claimedHostName)) == ["web-01", "web-02"]
        }
        #expect(try setUp.stored("UnblockAddress").allSatisfy { $0.responseElements?["reason"]?.stringValue == "expired" })
    }

    /// A single-host rule: one failed login, blocked there.
    static let hostRule = """
        name: one-strike
        match:
          detail:
            eventSource: [sshd.linux]
            eventName: [Login]
            errorCode: [{exists: true}]
        actions:
          - respond:
              response: block-attacker
              arguments: {address: detail.sourceIPAddress}

        """

    @Test func aBanOutlivesItsAgentAndTheRestartedAgentRecordsItsEnd() throws {
        let setUp = try ResponseFleet(
            hosts: ["web-01"], others: ["attacker"], rules: { _ in ["one-strike": Self.hostRule] },
            responses: { _ in ["block-attacker": Self.blockDefinition(allow: "192.0.2.1")] })
        defer { setUp.stop() }
        let network = setUp.network
        let web = network.address("web-01")
        try setUp.failLogin(on: "web-01", from: "attacker")
        try setUp.waitFor("the attacker blocked") { try !network.connects(from: "attacker", to: web, port: 22, within: 0.5) }
        let blockedAt = Date()
        try setUp.waitFor("the BlockAddress record") { try !setUp.stored("BlockAddress").isEmpty }

        // The agent dies with the ban in force; the kernel still ends it on time.
        setUp.fleet.agents["web-01"]!.crash()
        try setUp.waitFor("the ban ended with no agent", timeout: 30) { try network.connects(from: "attacker", to: web, port: 22, within: 0.5) }
        let endedAfter = Date().timeIntervalSince(blockedAt)
        #expect(endedAfter > 7 && endedAfter < 16, "the 10 s ban ended after \(endedAfter) s")
        #expect(try setUp.stored("UnblockAddress").isEmpty, "no agent, no end recorded yet")

        // Restarted, the agent finds the end passed and records it; the request is not done again.
        try setUp.startAgent("web-01")
        try setUp.waitFor("the UnblockAddress record") { try !setUp.stored("UnblockAddress").isEmpty }
        let ended = try setUp.stored("UnblockAddress")
        #expect(ended.count == 1 && ended.first?.responseElements?["reason"]?.stringValue == "expired-while-stopped")
        #expect(try setUp.stored("BlockAddress").count == 1, "performed once")
        #expect(try network.connects(from: "attacker", to: web, port: 22))

        // A second offence escalates: a minute, remembered across the restart.
        try setUp.failLogin(on: "web-01", from: "attacker")
        try setUp.waitFor("the second block") { try setUp.stored("BlockAddress").count == 2 }
        let second = try setUp.stored("BlockAddress").max { ($0.eventTime ?? "") < ($1.eventTime ?? "") }
        #expect(second?.responseElements?["durationSeconds"]?.integerValue == 60 && second?.responseElements?["offence"]?.integerValue == 2)

        // And `responses revert` ends it at once, everywhere it is in force.
        let group = try #require(setUp.list()["Requests"]?.arrayValue?.first { $0["State"]?.stringValue == "performed" }?["Group"]?.stringValue)
        let reverted = try setUp.fleet.cli("responses revert", [group])
        #expect(reverted.status == 0, "\(reverted)")
        try setUp.waitFor("the attacker accepted after the revert", timeout: 10) {
            try network.connects(from: "attacker", to: web, port: 22, within: 0.5)
        }
        try setUp.waitFor("the revert recorded") {
            try setUp.stored("UnblockAddress").contains { $0.responseElements?["reason"]?.stringValue == "reverted" }
        }
    }

    /// And a command response beside it: the host's program gets Wazuh 5's JSON on its input,
    /// `enable` at the start and `disable` from its revert at the end.
    @Test func aLockedAccountCannotLogInUntilTheLockEnds() throws {
        let account = HostJournalSuites.HostActivityTests.Account()
        try account.create()
        defer { account.deleteIfPresent() }
        let scratch = try TemporaryDirectory(prefix: "notes")
        defer { scratch.remove() }
        let notes = scratch.file("notes.jsonl")
        let note = """
            kind = "command"
            command = ["/usr/bin/tee", "-a", "\(notes)"]
            revert = ["/usr/bin/tee", "-a", "\(notes)"]
            timeout = "5s"
            max-duration = "1m"

            """
        let rule = """
            name: guessed-password
            match:
              detail:
                eventSource: [sshd.linux]
                eventName: [Login]
                errorCode: [{exists: true}]
                userIdentity: {userName: [\(account.name)]}
            window:
              type: event_count
              group-by: [detail.userIdentity.userName]
              timespan: 10m
              condition: {gte: 2}
            actions:
              - respond:
                  response: lock
                  arguments: {account: detail.userIdentity.userName}
                  duration: 8s
              - respond:
                  response: note
                  arguments: {account: detail.userIdentity.userName, ticket: T-42}
                  duration: 8s

            """
        let setUp = try ResponseFleet(
            hosts: ["web-01"], others: [], rules: { _ in ["guessed-password": rule] },
            responses: { _ in ["lock": "kind = \"lock-account\"\nmax-duration = \"1m\"\n", "note": note] })
        defer { setUp.stop() }
        let web = setUp.network.address("web-01")
        func logIn(_ password: String) throws -> Int32 {
            try TestMachine.ssh(account.name, password: password, to: web, from: nil, network: setUp.network)
        }
        #expect(try logIn(account.password) == 0, "the right password works before")
        #expect(try logIn("wrong") != 0)
        #expect(try logIn("wrong") != 0)
        try setUp.waitFor("the LockAccount record") { try !setUp.stored("LockAccount").isEmpty }
        let lockedAt = Date()
        #expect(try logIn(account.password) != 0, "locked: the right password fails")
        let lock = try #require(setUp.stored("LockAccount").first)
        #expect(lock.errorCode == nil && lock.requestParameters?["arguments"]?["account"]?.stringValue == account.name)
        try setUp.waitFor("the UnlockAccount record", timeout: 30) { try !setUp.stored("UnlockAccount").isEmpty }
        #expect(Date().timeIntervalSince(lockedAt) > 5)
        #expect(try logIn(account.password) == 0, "unlocked: the right password works again")

        try setUp.waitFor("the RevertCommand record") { try !setUp.stored("RevertCommand").isEmpty }
        let lines = try String(contentsOfFile: notes, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        #expect(lines.map { $0["command"]?.stringValue } == ["enable", "disable"], "\(lines)")
        let alert = lines.first?["parameters"]?["alert"]
        #expect(alert?["user.name"]?.stringValue == account.name && alert?["hosttrail.arguments.ticket"]?.stringValue == "T-42")
        #expect(alert?["rule.name"]?.stringValue == "guessed-password" && lines.first?["parameters"]?["program"]?.stringValue == "/usr/bin/tee")
        let ran = try #require(setUp.stored("RunCommand").first)
        #expect(ran.errorCode == nil && ran.responseElements?["exitCode"]?.integerValue == 0)
        #expect(ran.responseElements?["output"]?.stringValue?.contains("\"enable\"") == true, "the program's output is kept")
    }

    /// The host's own rule, evaluated by its agent on its own records, blocks with the collector
    /// down; what it did reaches the collector when it is back.
    @Test func aHostRuleBansWithTheCollectorDown() throws {
        let hostRule = """
            {"name": "local-ssh-guessing",
             "match": {"detail": {"eventSource": ["sshd.linux"], "eventName": ["Login"], "errorCode": [{"exists": true}]}},
             "window": {"type": "event_count", "group-by": ["detail.sourceIPAddress"], "timespan": "10m", "condition": {"gte": 3}},
             "actions": [{"respond": {"response": "block-attacker", "arguments": {"address": "detail.sourceIPAddress"}}}]}
            """
        let setUp = try ResponseFleet(
            hosts: ["web-01"], others: ["attacker"], rules: { _ in [:] },
            responses: { _ in ["block-attacker": Self.blockDefinition(allow: "192.0.2.1")] }, hostRules: ["local-ssh-guessing": hostRule])
        defer { setUp.stop() }
        let network = setUp.network
        let web = network.address("web-01")
        _ = setUp.fleet.collector?.stop()
        for _ in 0..<2 { try setUp.failLogin(on: "web-01", from: "attacker") }
        #expect(try network.connects(from: "attacker", to: web, port: 22), "below the rule's count")
        try setUp.failLogin(on: "web-01", from: "attacker")
        try setUp.waitFor("the attacker blocked by the host's own rule", timeout: 15) {
            try !network.connects(from: "attacker", to: web, port: 22, within: 0.5)
        }
        #expect(try network.connects(from: "web-01", to: web, port: 22), "the host itself still connects")

        // The collector back: the host's records of what it did arrive with the rest.
        try setUp.startCollector()
        try setUp.waitFor("the BlockAddress record at the collector") { try !setUp.stored("BlockAddress").isEmpty }
        let block = try #require(setUp.stored("BlockAddress").first)
        #expect(block.errorCode == nil && block.requestParameters?["ruleName"]?.stringValue == "local-ssh-guessing")
        #expect(block.requestParameters?["requestId"]?.stringValue?.hasPrefix("local-") == true)
        #expect(block.requestParameters?["triggeringEventIds"]?.arrayValue?.count == 3)
        #expect(try setUp.stored("RequestResponse").isEmpty, "asked by nobody but the host")
    }
}
