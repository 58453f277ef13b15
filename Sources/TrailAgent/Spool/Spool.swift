// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The agent's disk buffer between sources and the shipper.
///
/// Layout under the spool directory:
/// - `lock`: held with `flock(2)` for the agent's life, so a second agent cannot share the spool;
/// - `queue/<sequence>.ndjson`: one file per accepted batch, one canonical record per line, written
///   to a temporary name, fsync'd, renamed and the directory fsync'd before the batch counts as
///   spooled (the socket answers `202` only after that);
/// - `dead-letter/`: batches the collector refused for good, kept for an operator.
///
/// This is the simple first spool: whole-file batches, no per-record checksums. Records leave the
/// queue only when the collector has acknowledged them.
public final class Spool: Sendable {
    /// A spooled batch file and its records.
    public struct Batch: Sendable {
        public var sequence: UInt64
        public var path: String
        public var records: [Data]
        public var bytes: Int
    }

    /// What went in and out of the spool since the agent started.
    public struct Counters: Sendable, Hashable {
        public var received = 0
        public var spooled = 0
        public var acknowledged = 0
        public var duplicates = 0
        public var deadLettered = 0
    }

    public let directory: String
    let queueDirectory: String
    let deadLetterDirectory: String
    private let lockDescriptor: Int32
    private let state: Mutex<State>
    private let logger: Logger

    struct State {
        var nextSequence: UInt64
        var counters = Counters()
    }

    /// Opens (creating if needed) and locks the spool at `directory`.
    ///
    /// - Throws: ``AgentError`` `spool-locked` when another agent holds the spool, `spool-io` otherwise.
    public init(directory: String, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        queueDirectory = directory + "/queue"
        deadLetterDirectory = directory + "/dead-letter"
        do {
            for path in [directory, queueDirectory, deadLetterDirectory] {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            }
        } catch {
            throw AgentError(.spoolIO, "cannot create the spool directory", path: directory, underlyingError: error)
        }
        let lockPath = directory + "/lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw AgentError(.spoolIO, "cannot open the spool lock", path: lockPath, underlyingError: SystemCall.Failure(call: "open", errno: errno))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            if code == EWOULDBLOCK {
                throw AgentError(
                    .spoolLocked,
                    "the spool is in use by another agent\(holder.map { " (pid \($0))" } ?? ""); two agents cannot share a spool",
                    path: directory)
            }
            throw AgentError(.spoolIO, "cannot lock the spool", path: lockPath, underlyingError: SystemCall.Failure(call: "flock", errno: code))
        }
        _ = ftruncate(fd, 0)
        _ = try? SystemCall.writeAll(fd, Data("\(getpid())\n".utf8))
        lockDescriptor = fd

        // A temporary file is a batch whose write never finished; nobody was told it was spooled.
        var highest: UInt64 = 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: queueDirectory)) ?? []
        for name in names {
            if name.hasPrefix(".tmp-") {
                unlink(queueDirectory + "/" + name)
                logger.warning("removed an unfinished spool write", metadata: ["spool.file": "\(name)"])
            } else if let sequence = Self.sequence(of: name) {
                highest = max(highest, sequence)
            }
        }
        state = Mutex(State(nextSequence: highest + 1))
    }

    deinit {
        close(lockDescriptor)  // releases the flock
    }

    /// Durably appends records as one batch; returns when they are on disk.
    ///
    /// - Parameter records: Canonical JSON records, one per element (no newlines inside).
    public func append(_ records: [Data]) throws {
        guard !records.isEmpty else { return }
        let sequence = state.withLock { state in
            state.counters.received += records.count
            defer { state.nextSequence += 1 }
            return state.nextSequence
        }
        var body = Data()
        body.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
        for record in records {
            body.append(record)
            body.append(UInt8(ascii: "\n"))
        }
        let name = Self.fileName(sequence)
        let temporary = queueDirectory + "/.tmp-" + name
        let final = queueDirectory + "/" + name
        do {
            let fd = try SystemCall.check("open \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640) }
            do {
                try SystemCall.writeAll(fd, body)
                try SystemCall.check("fsync") { fsync(fd) }
                close(fd)
            } catch {
                close(fd)
                unlink(temporary)
                throw error
            }
            try SystemCall.check("rename") { rename(temporary, final) }
            try SystemCall.syncDirectory(queueDirectory)
        } catch {
            throw AgentError(.spoolIO, "cannot write to the spool", path: final, underlyingError: error)
        }
        state.withLock { $0.counters.spooled += records.count }
    }

    /// The oldest spooled batches, up to `maxRecords` records (at least one batch when any exists).
    public func oldest(maxRecords: Int, maxBytes: Int) throws -> [Batch] {
        let names = (try FileManager.default.contentsOfDirectory(atPath: queueDirectory))
            .compactMap { name in Self.sequence(of: name).map { ($0, name) } }
            .sorted { $0.0 < $1.0 }
        var batches: [Batch] = []
        var records = 0
        var bytes = 0
        for (sequence, name) in names {
            let path = queueDirectory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let lines = data.split(separator: UInt8(ascii: "\n")).map { Data($0) }
            if !batches.isEmpty && (records + lines.count > maxRecords || bytes + data.count > maxBytes) { break }
            batches.append(Batch(sequence: sequence, path: path, records: lines, bytes: data.count))
            records += lines.count
            bytes += data.count
        }
        return batches
    }

    /// Removes batches the collector has committed.
    public func acknowledge(_ batches: [Batch], duplicates: Int) throws {
        for batch in batches {
            try SystemCall.check("unlink \(batch.path)") { unlink(batch.path) }
        }
        try SystemCall.syncDirectory(queueDirectory)
        state.withLock { state in
            state.counters.acknowledged += batches.reduce(0) { $0 + $1.records.count }
            state.counters.duplicates += duplicates
        }
    }

    /// Moves batches the collector refused for good out of the queue, with the reason beside them.
    public func deadLetter(_ batches: [Batch], reason: String) throws {
        for batch in batches {
            let name = URL(fileURLWithPath: batch.path).lastPathComponent
            try SystemCall.check("rename") { rename(batch.path, deadLetterDirectory + "/" + name) }
            try? Data((reason + "\n").utf8).write(to: URL(fileURLWithPath: deadLetterDirectory + "/" + name + ".reason"))
        }
        try SystemCall.syncDirectory(queueDirectory)
        try SystemCall.syncDirectory(deadLetterDirectory)
        state.withLock { $0.counters.deadLettered += batches.reduce(0) { $0 + $1.records.count } }
    }

    public var counters: Counters {
        state.withLock { $0.counters }
    }

    /// Batches waiting in the queue.
    public func queuedBatchCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: queueDirectory)) ?? []).filter { Self.sequence(of: $0) != nil }.count
    }

    static func fileName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".ndjson"
    }

    static func sequence(of name: String) -> UInt64? {
        guard name.hasSuffix(".ndjson"), !name.hasPrefix(".") else { return nil }
        return UInt64(name.dropLast(".ndjson".count))
    }
}
