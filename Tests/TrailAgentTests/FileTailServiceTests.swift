// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

@testable import TrailAgent

struct FileTailServiceTests {
    static func stanza(_ minute: Int, package: String, requestedBy: String?, finished: Bool = true) -> String {
        let time = String(format: "2026-11-25  03:%02d:00", minute)
        return "Start-Date: \(time)\nCommandline: apt-get install \(package)\n"
            + (requestedBy.map { "Requested-By: \($0) (1000)\n" } ?? "")
            + "Install: \(package):amd64 (1.0)\n" + (finished ? "End-Date: \(time.dropLast(2))30\n" : "") + "\n"
    }

    /// After a restart, the runs at the end of apt's history are known before any dpkg line is
    /// converted, including one still going; a stanza cut by the 64 KiB window is not guessed at.
    @Test func theRunsAtTheEndOfTheHistoryAreReadAtStart() throws {
        let directory = try TemporaryDirectory(prefix: "apt-history")
        let path = directory.file("history.log")
        // ~90 KiB of older runs push the start of the window into the middle of a stanza.
        var text = ""
        var minute = 0
        while text.utf8.count < 90_000 {
            text += Self.stanza(minute % 60, package: "old\(minute)-" + String(repeating: "x", count: 200), requestedBy: "carol")
            minute += 1
        }
        text += Self.stanza(58, package: "nginx", requestedBy: "alice") + Self.stanza(59, package: "curl", requestedBy: nil, finished: false)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))

        let runs = FileTailService.aptRunsAtTheEnd(of: path, utcOffsetSeconds: 0)
        #expect(runs.count > 100 && runs.count < minute, "\(runs.count) of \(minute + 2)")
        let nginx = try #require(runs.first { $0.installs == ["nginx"] })
        #expect(nginx.requestedBy == "alice" && nginx.end != nil)
        let curl = try #require(runs.last)
        #expect(curl.installs == ["curl"] && curl.end == nil && curl.requestedBy == nil)
        // Every run kept is whole: a start, its package, its requester.
        #expect(runs.dropLast().allSatisfy { $0.end != nil && $0.installs.count == 1 })
        #expect(FileTailService.aptRunsAtTheEnd(of: directory.file("missing.log"), utcOffsetSeconds: 0).isEmpty)
    }

    /// A tailed line's event ID is derived from `file:<path>` and this position; a format change
    /// would give every line read again after an upgrade a new ID, stored twice. The head hash was
    /// computed with Python: `hashlib.sha256(b"first\n").hexdigest()[:32]`.
    @Test func theLinePositionFormatIsStable() throws {
        let directory = try TemporaryDirectory(prefix: "tail-position")
        defer { directory.remove() }
        let path = directory.file("auth.log")
        try Data("first\nsecond\n".utf8).write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var info = stat()
        #expect(fstat(descriptor, &info) == 0)
        let identity = try #require(LogFileIdentity.of(descriptor: descriptor))
        #expect(identity.head == "b640e840b19d378660b32fb51ae18d67")
        #expect(identity.headLength == 6)
        #expect(FileTailService.positionPrefix(identity) + "6" == "ino=\(info.st_ino);head=b640e840b19d378660b32fb51ae18d67;offset=6")
        #expect(FileTailService.source(path) == "file:" + path)
    }
}
