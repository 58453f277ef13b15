// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import FoundationEssentials
import Glibc
import TrailAgent

struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Inspect a spool without changing it.", subcommands: [Verify.self, Stats.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every segment's frames; exit 1 if any is damaged.")
        @Option(name: .customLong("spool-dir"), help: "The spool directory.") var spoolDir: String = "/var/lib/hosttrail/spool"

        func run() throws {
            let report = try SpoolInspector(directory: spoolDir).inspect()
            for problem in report.problems { writeToStandardError("damaged: \(problem)\n") }
            print("\(report.segments) segments, \(report.bytes) bytes, \(report.pendingRecords) records pending: \(report.problems.isEmpty ? "OK" : "\(report.problems.count) problems")")
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
