// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailTestSupport

@testable import TrailAgent

#if canImport(Glibc)
    import Glibc
#endif

/// The follower against real files, rotated the ways logrotate rotates them. Time is passed in,
/// so the rotation grace needs no sleeping: the monotonic instant moves as the test says; the wall
/// clock is the real one (files' modification times are compared with it), `behind` seconds back.
struct LogFileFollowerTests {
    let directory: TemporaryDirectory
    let path: String
    var clock = LogFileFollower.Now.current
    /// How far behind the real wall clock the follower's is (a poll "made earlier").
    var behind: TimeInterval = 0

    /// The clock after `duration` has passed.
    mutating func tick(_ duration: Duration = .milliseconds(10)) -> LogFileFollower.Now {
        clock.instant = clock.instant.advanced(by: duration)
        clock.date = Date().addingTimeInterval(-behind)
        return clock
    }

    init() throws {
        directory = try TemporaryDirectory(prefix: "follow")
        path = directory.file("auth.log")
    }

    func append(_ text: String, to file: String? = nil) throws {
        let target = file ?? path
        if !FileManager.default.fileExists(atPath: target) { _ = FileManager.default.createFile(atPath: target, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: target))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func lines(_ range: Range<Int>, tag: String = "l") -> String {
        range.map { "\(tag)\($0)\n" }.joined()
    }

    /// Polls until nothing more comes; returns the lines' texts, the events and the last checkpoint.
    mutating func drain(_ follower: LogFileFollower, advancing: Duration = .milliseconds(10))
        -> (texts: [String], events: [LogFileFollower.Event], checkpoint: LogFileCheckpoint?, offsets: [Int])
    {
        var texts: [String] = []
        var offsets: [Int] = []
        var events: [LogFileFollower.Event] = []
        var checkpoint: LogFileCheckpoint?
        var idle = 0
        while idle < 3 {
            if let chunk = follower.poll(now: tick(advancing)) {
                texts += chunk.lines.map { String($0.text) }
                offsets += chunk.lines.map(\.offset)
                events += chunk.events
                checkpoint = chunk.checkpoint
                idle = 0
            } else {
                idle += 1
            }
        }
        return (texts, events, checkpoint, offsets)
    }

    @Test mutating func linesComeOnceWithTheirOffsetsAndPartialLinesWait() throws {
        defer { directory.remove() }
        try append("first\nsecond\nthi")
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        let first = drain(follower)
        #expect(first.texts == ["first", "second"])
        #expect(first.offsets == [0, 6])
        #expect(first.checkpoint?.offset == 13)
        try append("rd\n")
        let second = drain(follower)
        #expect(second.texts == ["third"])
        #expect(second.offsets == [13])
        #expect(second.checkpoint?.offset == 19)
    }

    @Test mutating func renameAndCreateLosesNothingWrittenToTheOldFileLate() throws {
        defer { directory.remove() }
        try append(lines(0..<100))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning, rotationGrace: .seconds(1))
        #expect(drain(follower).texts.count == 100)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(100..<120), to: path + ".1")  // the writer has not reopened yet
        try append(lines(120..<150))  // the new file
        try append(lines(150..<160), to: path + ".1")
        let after = drain(follower, advancing: .milliseconds(400))
        #expect(after.texts == (100..<120).map { "l\($0)" } + (150..<160).map { "l\($0)" } + (120..<150).map { "l\($0)" })
        #expect(after.events == [.rotated])
        #expect(after.checkpoint?.offset == 30 * 5)
    }

    /// A follower that fell behind by several rotations (a burst, logrotate every second) reads
    /// each rotated file in turn, then the path: before, it jumped from the file it was reading
    /// to the path and lost the rotations in between (seen in `make bench`'s rotating measure).
    @Test mutating func fallingBehindBySeveralRotationsLosesNothing() throws {
        defer { directory.remove() }
        try append(lines(0..<100))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning, rotationGrace: .seconds(1))
        #expect(drain(follower).texts.count == 100)
        try append(lines(100..<150))  // not read before the rotations
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(150..<200))  // the second file
        try FileManager.default.moveItem(atPath: path + ".1", toPath: path + ".2")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(200..<250))  // the third file
        try FileManager.default.moveItem(atPath: path + ".2", toPath: path + ".3")
        try FileManager.default.moveItem(atPath: path + ".1", toPath: path + ".2")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(250..<300))  // the path now
        let after = drain(follower, advancing: .milliseconds(400))
        #expect(after.texts == (100..<300).map { "l\($0)" })
        try append(lines(300..<310))
        #expect(drain(follower).texts == (300..<310).map { "l\($0)" })
    }

    @Test mutating func anUnfinishedLastLineOfARotatedFileIsNotLost() throws {
        defer { directory.remove() }
        try append("l0\nl1\npart")
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning, rotationGrace: .milliseconds(100))
        #expect(drain(follower).texts == ["l0", "l1"])
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append("x\n")
        #expect(drain(follower, advancing: .milliseconds(200)).texts == ["part", "x"])
    }

    @Test mutating func copyTruncateReadsTheRestFromTheCopyThenTheFileAgain() throws {
        defer { directory.remove() }
        try append(lines(0..<50))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        #expect(drain(follower).texts.count == 50)
        try append(lines(50..<70))  // written, not yet read, before logrotate copies
        try FileManager.default.copyItem(atPath: path, toPath: path + ".1")
        try FileHandle(forWritingAtPath: path)!.truncate(atOffset: 0)
        try append(lines(0..<5, tag: "new"))
        let after = drain(follower)
        #expect(after.texts == (50..<70).map { "l\($0)" } + (0..<5).map { "new\($0)" })
        #expect(after.events == [.truncated(explained: true, previousOffset: 10 * 3 + 40 * 4)])
    }

    @Test mutating func truncationWithoutARotationIsReported() throws {
        defer { directory.remove() }
        try append(lines(0..<50))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        _ = drain(follower)
        try FileHandle(forWritingAtPath: path)!.truncate(atOffset: 0)
        try append("after wipe\n")
        let after = drain(follower)
        #expect(after.texts == ["after wipe"])
        guard case .truncated(explained: false, _) = after.events.first else {
            Issue.record("no unexplained truncation: \(after.events)")
            return
        }
    }

    @Test mutating func deletionIsReportedAndTheRecreatedFileIsRead() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        _ = drain(follower)
        try FileManager.default.removeItem(atPath: path)
        #expect(drain(follower).events == [.removed])
        try append("back\n")
        let after = drain(follower, advancing: .seconds(2))
        #expect(after.texts == ["back"])
    }

    @Test mutating func aRestartResumesAfterTheCheckpointInTheFileOrItsRotatedCopy() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let first = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        let checkpoint = try #require(drain(first).checkpoint)
        try append(lines(10..<15))
        let resumed = LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning)
        let again = drain(resumed)
        #expect(again.texts == (10..<15).map { "l\($0)" })
        // Down again; meanwhile more lines, then a rotation.
        let saved = try #require(again.checkpoint)
        try append(lines(15..<20))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(0..<3, tag: "new"))
        let afterRotation = drain(LogFileFollower(path: path, checkpoint: saved, startAt: .beginning))
        #expect(afterRotation.texts == (15..<20).map { "l\($0)" } + (0..<3).map { "new\($0)" })
    }

    @Test mutating func aRestartCatchesUpThroughCompressedAndNewerRotations() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let checkpoint = try #require(drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint)
        // While the agent is down: more lines, a rotation with compress, new lines, another rotation.
        try append(lines(10..<15))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        #expect(try Command.run("gzip", [path + ".1"]).status == 0)
        try append(lines(0..<4, tag: "second"))
        try FileManager.default.moveItem(atPath: path + ".1.gz", toPath: path + ".2.gz")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(0..<3, tag: "third"))
        let after = drain(LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning))
        #expect(after.texts == (10..<15).map { "l\($0)" } + (0..<4).map { "second\($0)" } + (0..<3).map { "third\($0)" })
        #expect(after.events.isEmpty)
    }

    /// RHEL's logrotate names rotations by date (`dateext`): a restart finds its place in them too.
    @Test mutating func aRestartCatchesUpThroughDatedRotations() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let checkpoint = try #require(drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint)
        // While down: more lines, a dated rotation compressed later, new lines, the next day's rotation.
        try append(lines(10..<15))
        try FileManager.default.moveItem(atPath: path, toPath: path + "-20261124")
        try append(lines(0..<4, tag: "second"))
        #expect(try Command.run("gzip", [path + "-20261124"]).status == 0)
        try FileManager.default.moveItem(atPath: path, toPath: path + "-20261125")
        try append(lines(0..<3, tag: "third"))
        // Names that only look alike are not rotations of this file.
        try append("other\n", to: path + "-old")
        try append("other\n", to: directory.file("auth.logger-20261125"))
        #expect(RotatedLogFiles.chain(of: path) == [path + "-20261125", path + "-20261124.gz"])
        let after = drain(LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning))
        #expect(after.texts == (10..<15).map { "l\($0)" } + (0..<4).map { "second\($0)" } + (0..<3).map { "third\($0)" })
        #expect(after.events.isEmpty)
    }

    /// Sets a file's modification time `age` seconds before now, as a rotation made then has it
    /// (logrotate keeps the time when it renames or compresses).
    func age(_ file: String, _ age: TimeInterval) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: file)
    }

    /// Numbered and `dateext` rotations side by side, as for weeks after an operator switches:
    /// the age says which is newer, whatever the names, and every numbered one is found.
    @Test mutating func rotationsNamedBothWaysAreOrderedByAge() throws {
        defer { directory.remove() }
        for (name, days) in [(".1", 3.0), (".2.gz", 4.0), (".25.gz", 30.0), ("-20261204", 1.0), ("-20261203.gz", 2.0), ("-old", 0.5)] {
            try append("x\n", to: path + name)
            try age(path + name, days * 86_400)
        }
        let byAge: [String] = ["-20261204", "-20261203.gz", ".1", ".2.gz", ".25.gz"].map { path + $0 }
        #expect(RotatedLogFiles.chain(of: path) == byAge)
        // Written in the same instant, names order them.
        let instant = Date().addingTimeInterval(-60)
        for name in [".1", ".2.gz", "-20261204", "-20261203.gz"] {
            try FileManager.default.setAttributes([.modificationDate: instant], ofItemAtPath: path + name)
        }
        let byName: [String] = [".1", ".2.gz", "-20261204", "-20261203.gz"].map { path + $0 }
        #expect(Array(RotatedLogFiles.chain(of: path).prefix(4)) == byName)
    }

    /// The operator switched to `dateext` while the agent was down: the file it was reading is
    /// now the newest dated rotation, older than none of the numbered ones left from before.
    @Test mutating func aRestartAfterASwitchToDatedNamesReadsTheDatedRotationAndNoOldOne() throws {
        defer { directory.remove() }
        for (name, days) in [(".1", 2.0), (".2.gz", 3.0)] {
            try append(lines(0..<3, tag: "old\(name)"), to: path + name)
            try age(path + name, days * 86_400)
        }
        try append(lines(0..<10))
        let checkpoint = try #require(drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint)
        try append(lines(10..<15))
        try FileManager.default.moveItem(atPath: path, toPath: path + "-20261205")
        try append(lines(0..<3, tag: "new"))
        let after = drain(LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning))
        #expect(after.texts == (10..<15).map { "l\($0)" } + (0..<3).map { "new\($0)" })
        #expect(after.events.isEmpty)
    }

    /// Followed across the switch (and back): the old numbered rotations, compressed or not, are
    /// not read again when the current file turns over.
    @Test mutating func afterASwitchOfNamesNoOlderRotationIsReadAgain() throws {
        defer { directory.remove() }
        for (name, days) in [(".1", 2.0), (".2.gz", 3.0), ("-20261101.gz", 40.0)] {
            let text = lines(0..<3, tag: "old\(name)")
            if name.hasSuffix(".gz") {
                let plain = path + String(name.dropLast(3))
                try append(text, to: plain)
                #expect(try Command.run("gzip", [plain]).status == 0)
            } else {
                try append(text, to: path + name)
            }
            try age(path + name, days * 86_400)
        }
        try append(lines(0..<10))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning, rotationGrace: .seconds(1))
        #expect(drain(follower).texts == (0..<10).map { "l\($0)" })
        try append(lines(10..<12))
        try FileManager.default.moveItem(atPath: path, toPath: path + "-20261205")  // dateext from now on
        try append(lines(0..<4, tag: "second"))
        let afterSwitch = drain(follower, advancing: .milliseconds(400))
        #expect(afterSwitch.texts == (10..<12).map { "l\($0)" } + (0..<4).map { "second\($0)" })
        try append(lines(4..<6, tag: "second"))
        // And back to numbers: the dated rotations are now the older ones.
        try FileManager.default.moveItem(atPath: path + ".1", toPath: path + ".2")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(lines(0..<2, tag: "third"))
        let afterSwitchBack = drain(follower, advancing: .milliseconds(400))
        #expect(afterSwitchBack.texts == (4..<6).map { "second\($0)" } + (0..<2).map { "third\($0)" })
        #expect((afterSwitch.events + afterSwitchBack.events).allSatisfy { $0 == .rotated })
    }

    /// A compressed rotation is read from a temporary copy: its lines' positions name the file's
    /// head (and the inode it had when read live), never the copy's inode, so a second reading
    /// derives the same event IDs; the chunk names the rotation actually read.
    @Test mutating func aCompressedRotationIsKnownByItsHeadNotByItsTemporaryCopy() throws {
        defer { directory.remove() }
        try append(lines(0..<5))
        let first = drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint
        let checkpoint = try #require(first)
        try append(lines(5..<8))
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        #expect(try Command.run("gzip", [path + ".1"]).status == 0)
        try append(lines(0..<2, tag: "next"))
        try FileManager.default.moveItem(atPath: path, toPath: path + "-20261205")
        #expect(try Command.run("gzip", [path + "-20261205"]).status == 0)
        try append(lines(0..<1, tag: "live"))
        func chunks() -> [LogFileFollower.Chunk] {
            let follower = LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning)
            var chunks: [LogFileFollower.Chunk] = []
            for _ in 0..<10 {
                if let chunk = follower.poll(now: tick()), !chunk.lines.isEmpty { chunks.append(chunk) }
            }
            return chunks
        }
        let once = chunks()
        let twice = chunks()
        #expect(once.map { $0.lines.map { String($0.text) } } == [(5..<8).map { "l\($0)" }, ["next0", "next1"], ["live0"]])
        #expect(once.map(\.fileName) == [path + ".1.gz", path + "-20261205.gz", path])
        // The checkpoint's file keeps its inode; the one never read live is named by its head.
        #expect(once[0].identity == checkpoint.identity)
        #expect(once[1].identity?.positionKey.hasPrefix("head=") == true)
        #expect(once.map { $0.identity?.positionKey } == twice.map { $0.identity?.positionKey })
    }

    func copyTruncate() throws {
        if FileManager.default.fileExists(atPath: path + ".1") {
            if FileManager.default.fileExists(atPath: path + ".2") { try FileManager.default.removeItem(atPath: path + ".2") }
            try FileManager.default.moveItem(atPath: path + ".1", toPath: path + ".2")
        }
        try FileManager.default.copyItem(atPath: path, toPath: path + ".1")
        try FileHandle(forWritingAtPath: path)!.truncate(atOffset: 0)
    }

    /// copytruncate while down, then again while the restarted follower catches up; the first
    /// poll after the restart comes at each possible moment.
    @Test(arguments: 0..<4) mutating func copyTruncateWhileDownAndWhileCatchingUp(firstPollAt: Int) throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let checkpoint = try #require(drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint)
        try append(lines(10..<15))
        try copyTruncate()
        let follower = LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning)
        var texts: [String] = []
        func pollOnce() {
            if let chunk = follower.poll(now: tick()) { texts += chunk.lines.map { String($0.text) } }
        }
        if firstPollAt == 0 { pollOnce() }
        try append(lines(0..<5, tag: "c"))
        if firstPollAt == 1 { pollOnce() }
        try copyTruncate()
        if firstPollAt == 2 { pollOnce() }
        try append(lines(0..<3, tag: "d"))
        texts += drain(follower).texts
        #expect(texts == (10..<15).map { "l\($0)" } + (0..<5).map { "c\($0)" } + (0..<3).map { "d\($0)" })
    }

    @Test mutating func aCheckpointAtAnEmptyNewFileFindsWhatWasCopiedAwayWhileDown() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let first = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        _ = drain(first)
        try copyTruncate()
        var checkpoint = try #require(drain(first).checkpoint)
        #expect(checkpoint.identity == nil)  // the truncated file is empty
        // The copy was made before the checkpoint was saved, and the rotation below after it (as
        // a clock finer than files' times would see them).
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-1)], ofItemAtPath: path + ".1")
        checkpoint.savedAt = Date().timeIntervalSince1970 - 0.5
        // Down: lines, a copytruncate, more lines.
        try append(lines(0..<4, tag: "x"))
        try copyTruncate()
        try append(lines(0..<2, tag: "y"))
        let after = drain(LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning))
        #expect(after.texts == (0..<4).map { "x\($0)" } + (0..<2).map { "y\($0)" })
    }

    @Test mutating func linesCopiedAndTruncatedBetweenTwoPollsOfAnEmptyFileAreReadFromTheCopy() throws {
        defer { directory.remove() }
        try append("")
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        // Seen empty a moment before the lines below were written (file times are coarse).
        behind = 0.05
        #expect(drain(follower).texts.isEmpty)
        behind = 0
        try append(lines(0..<4, tag: "x"))
        try copyTruncate()
        try append(lines(0..<2, tag: "y"))
        #expect(drain(follower).texts == (0..<4).map { "x\($0)" } + (0..<2).map { "y\($0)" })
    }

    @Test mutating func aCheckpointWhoseFileIsGoneStartsOverAndSaysSo() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let checkpoint = try #require(drain(LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)).checkpoint)
        try FileManager.default.removeItem(atPath: path)
        try append(lines(0..<2, tag: "other"))
        let after = drain(LogFileFollower(path: path, checkpoint: checkpoint, startAt: .beginning))
        #expect(after.events == [.lostPlace(checkpoint)])
        #expect(after.texts == ["other0", "other1"])
    }

    @Test mutating func linesAcrossReadsAndInvalidUTF8KeepTheirTextAndOffsets() throws {
        defer { directory.remove() }
        // Lines of varied length with multi-byte characters, so some straddle the 256 KiB reads
        // (carried over) and the rest are slices of one string per read; one read holds a line
        // of invalid UTF-8 (repaired, line by line) and its neighbours.
        var bytes: [UInt8] = []
        var expected: [(offset: Int, text: String)] = []
        var index = 0
        while bytes.count < 3 * LogFileFollower.readSize {
            let text = index == 700 ? nil : "line \(index) " + String(repeating: index % 3 == 0 ? "é" : "ab", count: index % 97) + " ✓"
            let lineBytes = text.map { Array($0.utf8) } ?? [0x61, 0xFF, 0xC3, 0x62]  // a, invalid, cut sequence, b
            expected.append((bytes.count, text ?? "a\u{FFFD}\u{FFFD}b"))
            bytes += lineBytes + [10]
            index += 1
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        let read = drain(follower)
        #expect(read.texts.count == expected.count)
        #expect(read.texts == expected.map(\.text))
        #expect(read.offsets == expected.map(\.offset))
        #expect(read.checkpoint?.offset == bytes.count)
    }

    @Test mutating func overlongLinesAreSkippedAndCounted() throws {
        defer { directory.remove() }
        try append("short\n" + String(repeating: "x", count: 3000) + "\nafter\n")
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning, maxLineBytes: 1000)
        var oversized = 0
        var texts: [String] = []
        while let chunk = follower.poll() {
            oversized += chunk.oversizedLines
            texts += chunk.lines.map { String($0.text) }
        }
        #expect(texts == ["short", "after"])
        #expect(oversized == 1)
    }

    @Test mutating func startingAtTheEndSkipsWhatIsThere() throws {
        defer { directory.remove() }
        try append(lines(0..<10))
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .end)
        #expect(drain(follower).texts.isEmpty)
        try append("new\n")
        #expect(drain(follower).texts == ["new"])
    }

    @Test mutating func aPathThatCannotBeOpenedIsReportedOnce() throws {
        defer { directory.remove() }
        try append("not a directory\n", to: directory.file("plain"))
        let follower = LogFileFollower(path: directory.file("plain/auth.log"), checkpoint: nil, startAt: .beginning)
        let first = drain(follower)
        #expect(first.events == [.unreadable(errno: ENOTDIR)])
        #expect(drain(follower).events.isEmpty)
    }

    @Test mutating func aPathThatIsADirectoryIsReportedOnce() throws {
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let follower = LogFileFollower(path: path, checkpoint: nil, startAt: .beginning)
        #expect(drain(follower).events == [.unreadable(errno: EISDIR)])
        #expect(drain(follower).events.isEmpty)
    }

    @Test(arguments: [LogFileFollower.StartAt.beginning, .end])
    mutating func aPathThatNeverExistedIsWaitedForQuietlyAndReadWhole(startAt: LogFileFollower.StartAt) throws {
        defer { directory.remove() }
        let follower = LogFileFollower(path: directory.file("secure"), checkpoint: nil, startAt: startAt)
        #expect(follower.poll() == nil)
        // Created after the start: every line in it came after, even with `--read-from end`.
        try append("hello\nworld\n", to: directory.file("secure"))
        #expect(drain(follower).texts == ["hello", "world"])
    }
}
