// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailSystemd
import TrailTestSupport

/// A journal file truncated while libsystemd has it mapped: without the guard the next read of a
/// page past the new end kills the process with SIGBUS (syslog-ng#4645); with it the read goes on
/// and the fault is counted.
@Suite struct JournalFaultGuardTests {
    /// Writes a journal of `count` entries with `systemd-journal-remote`; returns the file's path.
    static func writeJournal(entries count: Int, in directory: TemporaryDirectory) throws -> String {
        var export = ""
        let padding = String(repeating: "x", count: 200)
        for index in 0..<count {
            let realtime = 1_700_000_000_000_000 + UInt64(index) * 1000
            export += "__REALTIME_TIMESTAMP=\(realtime)\n__MONOTONIC_TIMESTAMP=\(UInt64(index) * 1000 + 1)\n"
            export += "_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=fixture\nSYSLOG_IDENTIFIER=sshd\n"
            export += "MESSAGE=entry \(index) \(padding)\n\n"
        }
        let path = directory.file("big.journal")
        let result = try Command.run("/lib/systemd/systemd-journal-remote", ["-o", path, "-"], stdin: Data(export.utf8))
        guard result.status == 0 else { throw TestProcess.Failure(description: "systemd-journal-remote: \(result)") }
        return path
    }

    struct Outcome: Sendable {
        var entriesBefore = 0
        var entriesAfter = 0
        var error: String?
        var faults = 0
    }

    @Test func aJournalTruncatedUnderTheReaderIsAFaultNotACrash() throws {
        let directory = try TemporaryDirectory(prefix: "jfg")
        defer { directory.remove() }
        let path = try Self.writeJournal(entries: 20_000, in: directory)
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 4 << 20, "the journal must be bigger than what is kept")

        // The handle lives on one thread, as libsystemd requires.
        let finished = onOwnThread(waitingUpTo: 60) {
            var outcome = Outcome()
            JournalFaultGuard.guardCurrentThread()
            defer { JournalFaultGuard.unguardCurrentThread() }
            let faultsBefore = JournalFaultGuard.faults
            do {
                let journal = try JournalHandle(directory: directory.path)
                try journal.seekHead()
                // Read a few entries so the file is mapped, then cut it to its first 256 KiB.
                while outcome.entriesBefore < 100, try journal.next() { outcome.entriesBefore += 1 }
                guard truncate(path, 256 << 10) == 0 else { throw POSIXError(.EIO) }
                // Read on until the reader gives up or has walked past the cut.
                while outcome.entriesAfter < 20_000, try journal.next() {
                    journal.forEachField { _, _ in }
                    outcome.entriesAfter += 1
                    if JournalFaultGuard.faults != faultsBefore { break }
                }
            } catch {
                outcome.error = "\(error)"
            }
            outcome.faults = JournalFaultGuard.faults - faultsBefore
            return outcome
        }
        let outcome = try #require(finished, "the reader thread did not finish")
        #expect(outcome.entriesBefore == 100)
        #expect(outcome.faults > 0, "reading past the cut raised no SIGBUS: \(outcome)")
        // The process is alive to say so: the fault was absorbed.
        #expect(outcome.entriesAfter < 20_000)
    }
}
