// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailSystemd
import TrailTestSupport

/// What `JournalHandle.wait` reports on a directory of journal files written with
/// `systemd-journal-remote`. The reader reopens on `.invalidated`, so a spurious one is a reopen loop.
@Suite struct JournalHandleTests {
    struct Waits: Sendable {
        var read = 0
        var quiet: [String] = []
        var afterNewFile = "-"
        var error: String?
    }

    @Test func aQuietJournalIsNotInvalidatedAndANewFileIs() throws {
        let directory = try TemporaryDirectory(prefix: "jhw")
        defer { directory.remove() }
        _ = try JournalFaultGuardTests.writeJournal(entries: 10, in: directory)
        let second = try TemporaryDirectory(prefix: "jhw2")
        defer { second.remove() }
        let later = try JournalFaultGuardTests.writeJournal(entries: 5, in: second)

        // The handle lives on one thread, as libsystemd requires.
        let finished = onOwnThread(waitingUpTo: 60) {
            var waits = Waits()
            do {
                let journal = try JournalHandle(directory: directory.path)
                try journal.seekHead()
                while try journal.next() { waits.read += 1 }
                // Nothing changes: every wait times out. Before the handle set up its inotify
                // watches at open, the first wait answered `.invalidated` at once, every time.
                for _ in 0..<3 { waits.quiet.append("\(try journal.wait(timeoutMicroseconds: 200_000))") }
                // A file moved in (a rotation, a new boot's file) is a real invalidation.
                guard rename(later, directory.file("later.journal")) == 0 else { throw POSIXError(.EIO) }
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline {
                    let change = try journal.wait(timeoutMicroseconds: 200_000)
                    if case .none = change { continue }
                    waits.afterNewFile = "\(change)"
                    break
                }
            } catch {
                waits.error = "\(error)"
            }
            return waits
        }
        let waits = try #require(finished, "the journal thread did not finish")
        #expect(waits.error == nil)
        #expect(waits.read == 10)
        #expect(waits.quiet == ["none", "none", "none"])
        #expect(waits.afterNewFile == "invalidated")
    }
}
