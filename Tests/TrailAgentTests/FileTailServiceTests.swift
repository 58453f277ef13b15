// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
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

        let runs = AptRunCorrelator.runsAtTheEnd(of: path, utcOffsetSeconds: 0)
        #expect(runs.count > 100 && runs.count < minute, "\(runs.count) of \(minute + 2)")
        let nginx = try #require(runs.first { $0.installs == ["nginx"] })
        #expect(nginx.requestedBy == "alice" && nginx.end != nil)
        let curl = try #require(runs.last)
        #expect(curl.installs == ["curl"] && curl.end == nil && curl.requestedBy == nil)
        // Every run kept is whole: a start, its package, its requester.
        #expect(runs.dropLast().allSatisfy { $0.end != nil && $0.installs.count == 1 })
        #expect(AptRunCorrelator.runsAtTheEnd(of: directory.file("missing.log"), utcOffsetSeconds: 0).isEmpty)
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

    /// The file source against an in-memory sink: each line's record, committed with the file's
    /// checkpoint; a restart from that checkpoint reads only what was written after it.
    @Test func aTailedFileCommitsItsRecordsWithItsCheckpoint() async throws {
        let directory = try TemporaryDirectory(prefix: "tail-sink")
        defer { directory.remove() }
        let path = directory.file("auth.log")
        func line(_ n: Int) -> String {
            "Nov 25 03:00:0\(n) web-1 sshd[10\(n)]: Accepted publickey for alice from 10.0.0.\(n) port 5000\(n) ssh2: ED25519 SHA256:abc\n"
        }
        try Data((line(0) + line(1) + line(2)).utf8).write(to: URL(fileURLWithPath: path))
        var configuration = AgentConfiguration(collectorURL: "https://collector.invalid")
        (configuration.tailFiles, configuration.readFrom, configuration.journal) = ([path], .beginning, false)
        configuration.filePollInterval = .milliseconds(10)
        let host = HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil)
        let agentRecords = AgentRecordBuilder(
            host: host, version: "test", configurationHash: "", process: PeerCredentials(pid: 1, uid: 0, gid: 0), runStarted: Date())
        func tail(_ sink: MemorySink, until count: Int) async throws -> [Data]? {
            let contexts = SourceContexts(sink: sink, readiness: SourceReadiness(), logger: Logger(label: "test"))
            let service = FileTailService(
                configuration: configuration, contexts: contexts, host: host, agentRecords: agentRecords, logger: Logger(label: "test"))
            let task = Task { try await service.run() }
            defer { task.cancel() }
            return try await sink.waitForRecords(count)
        }
        let first = MemorySink()
        let records = try #require(try await tail(first, until: 3))
        let events = try records.map { try JSONDecoder().decode(CloudTrailRecord.self, from: $0) }
        #expect(events.map(\.eventName) == ["Login", "Login", "Login"])
        #expect(events.map { $0.sourceIPAddress } == ["10.0.0.0", "10.0.0.1", "10.0.0.2"])
        let checkpoint = try #require(first.snapshot.latest[FileTailService.source(path)])
        #expect(LogFileCheckpoint(encoded: checkpoint)?.offset == 3 * line(0).utf8.count)

        // Resumed from the committed checkpoint: the old lines are not read again.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line(3).utf8))
        try handle.close()
        let resumed = MemorySink(checkpoints: first.snapshot.latest)
        let again = try #require(try await tail(resumed, until: 1))
        #expect(try again.map { try JSONDecoder().decode(CloudTrailRecord.self, from: $0).sourceIPAddress } == ["10.0.0.3"])
    }
}
