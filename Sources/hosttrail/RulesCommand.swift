// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import TrailCLI
import TrailCore
import TrailRules

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test a rule on events, replay history through it, or list the collector's rules.",
        subcommands: [TestRule.self, Backtest.self, ListRules.self])
}

struct TestRule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Say what a rule would do with the given events, windows included (EventBridge's TestEventPattern, and more).",
        discussion: "Each file holds a CloudTrail record, a list of them, {\"Records\": [...]}, or EventBridge envelopes of records.")

    @Argument(help: "The rule file (HostTrail YAML or Sigma).") var rule: String
    @Argument(help: "Event files (JSON).") var events: [String]

    func run() throws {
        do {
            var tester = try RuleTester(rulePath: rule)
            var all: [(file: String, event: RuleEvent)] = []
            for file in events { all += try RuleTester.events(inFile: file).map { (file, $0) } }
            // In time order, as the collector sees a fleet's records.
            for (index, item) in all.enumerated().sorted(by: { ($0.element.event.time, $0.offset) < ($1.element.event.time, $1.offset) }) {
                let (matched, fired) = tester.take(item.event)
                print(
                    IdentifierText.escapingControlCharacters("\(item.file) #\(index + 1) \(item.event.eventID): \(matched ? "matches" : "no match")"))
                for firing in fired { print("  " + RuleTester.describe(firing)) }
            }
            print(tester.summary)
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("hosttrail rules test: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Backtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay the collector's stored records through a rule and print every firing it would have made.")

    @OptionGroup var connection: CollectorConnection
    @Argument(help: "The rule file (HostTrail YAML or Sigma).") var rule: String
    @Option(name: .customLong("since"), help: "Replay from then: ISO 8601 or relative (default 7d).") var since = "7d"

    func run() throws {
        let now = Date()
        do {
            var tester = try RuleTester(rulePath: rule)
            let from = try parseTime(since, "--since", now: now) ?? now
            let stored = try connection.client().lookup(LookupEventsRequest(startTime: from, endTime: now), maxResults: nil)
            // Lookups come newest first; windows need them oldest first.
            for item in stored.reversed() {
                guard let json = try? JSONValue.parse(Array(item.cloudTrailEvent.utf8)),
                    let event = RuleEvent(recordJSON: json, host: json["additionalEventData"]?["host"]?["hostname"]?.stringValue ?? "-")
                else { continue }
                for firing in tester.take(event).fired { print(RuleTester.describe(firing)) }
            }
            print(tester.summary + " since \(TrailTime.format(from))")
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("hosttrail rules backtest: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail rules backtest: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct ListRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The collector's rules in force, their counts and last firing, and any file it refused.")

    @OptionGroup var connection: CollectorConnection
    @Option(help: "table or json.") var output: String = "table"

    func run() throws {
        do {
            let answer = try connection.client().rulesCall("ListRules")
            print(output == "json" ? String(decoding: answer.serialized(), as: UTF8.self) : RulesView.rules(answer))
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail rules list: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Actions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The collector's action jobs: list them (--failed: the dead-letter list), or queue a failed one again.",
        subcommands: [ListActions.self, RetryAction.self])
}

struct ListActions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Action jobs, newest first.")

    @OptionGroup var connection: CollectorConnection
    @Flag(help: "Only jobs given up on (the dead-letter list).") var failed = false
    @Flag(help: "Only jobs still to run or retry.") var pending = false
    @Option(name: .customLong("max-results"), help: "At most this many (default 100).") var maxResults = 100
    @Option(help: "table or json.") var output: String = "table"

    func run() throws {
        var request: [String: JSONValue] = ["MaxResults": .integer(Int64(maxResults))]
        if failed { request["State"] = "failed" } else if pending { request["State"] = "pending" }
        do {
            let answer = try connection.client().rulesCall("ListActionJobs", .object(request))
            print(output == "json" ? String(decoding: answer.serialized(), as: UTF8.self) : RulesView.jobs(answer))
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail actions list: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RetryAction: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Queue a failed job again, now, with its attempts and age counted afresh and the same idempotency key.")

    @OptionGroup var connection: CollectorConnection
    @Argument(help: "The job's ID (hosttrail actions list --failed).") var id: Int64

    func run() throws {
        do {
            _ = try connection.client().rulesCall("RetryActionJob", ["Id": .integer(id)])
            print("job \(id) queued again")
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail actions retry: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}
