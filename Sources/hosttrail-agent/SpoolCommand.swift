// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import FoundationEssentials
import Glibc
import TrailAgent

struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Inspect a spool; list and replay what the collector refused.",
        subcommands: [Verify.self, Stats.self, DeadLetter.self])

    struct DeadLetter: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letter", abstract: "Records the collector refused for good: list them, or send them again.",
            subcommands: [List.self, Replay.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One line a refused batch: name, records, bytes, reason.")
            @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"

            func run() throws {
                let entries = try DeadLetters(spoolDirectory: spoolDir).list()
                for entry in entries {
                    print(
                        "\(entry.name)\t\(entry.records) records\t\(entry.bytes) bytes\t\(entry.reason.split(separator: "\n").joined(separator: " "))"
                    )
                }
                print("(\(entries.count) batches, \(entries.reduce(0) { $0 + $1.records }) records)")
            }
        }

        struct Replay: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Send refused batches again (after fixing the cause): the agent puts their records back in the spool with the event IDs they had.",
                discussion: "Works with the agent running (it takes them within seconds) or stopped (at its next start).")
            @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"
            @Flag(help: "Every batch in the dead-letter directory.") var all = false
            @Argument(help: "Batch names, as `list` prints them.") var names: [String] = []

            func validate() throws {
                guard all != !names.isEmpty else { throw ValidationError("name the batches to replay, or give --all") }
            }

            func run() throws {
                let moved = try DeadLetters(spoolDirectory: spoolDir).markForReplay(all ? [] : names)
                print("\(moved.count) batches marked for replay: \(moved.joined(separator: ", "))")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every segment's frames; exit 1 if any is damaged.")
        @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"

        func run() throws {
            let report = try SpoolInspector(directory: spoolDir).inspect()
            for problem in report.problems { writeToStandardError("damaged: \(problem)\n") }
            print(
                "\(report.segments) segments, \(report.bytes) bytes, \(report.pendingRecords) records pending: \(report.problems.isEmpty ? "OK" : "\(report.problems.count) problems")"
            )
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the spool's contents and counters as JSON.")
        @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"

        func run() throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(try SpoolInspector(directory: spoolDir).inspect()), as: UTF8.self))
        }
    }
}

struct ResponsesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responses", abstract: "The host's responses.", subcommands: [Purge.self])

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo every response still in force (locks ended, reverts run), delete the agent's nftables table and its book.",
            discussion: "For a package purge or a host leaving the fleet; run it with the agent stopped.")
        @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"
        @Option(name: .customLong("firewall-table"), help: "The agent's nftables table.") var firewallTable: String = "hosttrail"

        func validate() throws {
            guard AgentConfiguration.isValidFirewallTable(firewallTable) else {
                throw ValidationError("--firewall-table \"\(firewallTable)\" is not 1-32 lower-case letters, digits, '-' or '_'")
            }
        }

        func run() throws {
            for line in ResponsePurge.purge(spoolDirectory: spoolDir, firewallTable: firewallTable, host: "") { print(line) }
        }
    }
}
