// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// The spool's `dead-letter/` directory: records the collector refused for good, a batch an
/// NDJSON file (`<segment>-<offset>.ndjson`, one canonical record a line) with its reason beside it
/// (`.reason`).
///
/// `hosttrail-agent spool dead-letter list` shows them; `replay` moves batches to
/// `dead-letter/replay/` (a rename: it works with the agent running or stopped), and the agent puts
/// their records back in the spool (``replay(into:)``, source `dead-letter`) with the event IDs they had, so a
/// record the collector stored meanwhile is stored once. Replay after the cause is fixed (a
/// collector limit raised, a host's certificate renewed).
public struct DeadLetters: Sendable {
    /// One refused batch.
    public struct Entry: Sendable, Codable, Hashable {
        public var name: String
        public var records: Int
        public var bytes: Int
        /// Why the collector refused it, as the agent wrote it down.
        public var reason: String
    }

    public let directory: String
    var replayDirectory: String { directory + "/replay" }

    public init(spoolDirectory: String) {
        directory = spoolDirectory + "/dead-letter"
    }

    /// Puts the records of the batches marked for replay back in the spool (the event IDs they
    /// had: a record the collector stored meanwhile is stored once), and forgets each batch once
    /// its records are committed; a crash between the two puts the batch back again at the next
    /// start, which the same event IDs make harmless. One try each: the caller (the idle shipper)
    /// is what makes room. Returns how many records went back.
    func replay(into context: SourceContext) async throws -> Int {
        var requeued = 0
        for batch in pendingReplays() {
            try await context.commitOnce(SourceBatch(batch.records))
            finishReplay(batch.name)
            requeued += batch.records.count
        }
        return requeued
    }

    /// The refused batches waiting in `dead-letter/`, by name.
    public func list() throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw AgentError(.spoolIO, "not a spool directory (no dead-letter/)", path: directory)
        }
        return try batchNames(in: directory).map { name in
            let data = FileManager.default.contents(atPath: directory + "/" + name + ".ndjson") ?? Data()
            let reason = FileManager.default.contents(atPath: directory + "/" + name + ".reason").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return Entry(
                name: name, records: data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }, bytes: data.count,
                reason: reason.trimmingWhitespaceAndNewlines())
        }
    }

    /// Moves the batches `names` (all of them when empty) to `replay/`, for the agent to send
    /// again. Returns the names moved.
    ///
    /// - Throws: ``AgentError`` naming a batch that is not there.
    @discardableResult
    public func markForReplay(_ names: [String]) throws -> [String] {
        let available = Set(try batchNames(in: directory))
        for name in names where !available.contains(name) {
            throw AgentError(.spoolIO, "no dead-letter batch named \(name) (see `hosttrail-agent spool dead-letter list`)", path: directory)
        }
        let chosen = names.isEmpty ? available.sorted() : names
        try FileManager.default.createDirectory(atPath: replayDirectory, withIntermediateDirectories: true)
        for name in chosen {
            // The reason first: a batch file in replay/ is one the agent may take at once.
            _ = rename(directory + "/" + name + ".reason", replayDirectory + "/" + name + ".reason")
            guard rename(directory + "/" + name + ".ndjson", replayDirectory + "/" + name + ".ndjson") == 0 else {
                throw AgentError(.spoolIO, "cannot move \(name) to replay/: \(String(cString: strerror(errno)))", path: directory)
            }
        }
        try SystemCall.syncDirectory(replayDirectory)
        try SystemCall.syncDirectory(directory)
        return chosen
    }

    /// The batches waiting in `replay/`, oldest first, with their records. A file whose lines
    /// are not all JSON objects is moved back to `dead-letter/` with the reason appended.
    func pendingReplays() -> [(name: String, records: [Data])] {
        guard let names = try? batchNames(in: replayDirectory) else { return [] }
        var batches: [(name: String, records: [Data])] = []
        for name in names {
            guard let data = FileManager.default.contents(atPath: replayDirectory + "/" + name + ".ndjson") else { continue }
            let lines = data.split(separator: 10, omittingEmptySubsequences: true).map { Data($0) }
            if let bad = lines.firstIndex(where: { (try? JSONValue.parse($0))?.objectValue == nil }) {
                let note = "\nnot replayed: line \(bad + 1) is not a JSON record\n"
                let reason = (FileManager.default.contents(atPath: replayDirectory + "/" + name + ".reason") ?? Data()) + Data(note.utf8)
                try? Spool.writeDurably(reason, to: directory + "/" + name + ".reason")
                _ = rename(replayDirectory + "/" + name + ".ndjson", directory + "/" + name + ".ndjson")
                unlink(replayDirectory + "/" + name + ".reason")
                continue
            }
            batches.append((name, lines))
        }
        return batches
    }

    /// Forgets a replayed batch once its records are back in the spool.
    func finishReplay(_ name: String) {
        unlink(replayDirectory + "/" + name + ".ndjson")
        unlink(replayDirectory + "/" + name + ".reason")
        try? SystemCall.syncDirectory(replayDirectory)
    }

    private func batchNames(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".ndjson") }.map { String($0.dropLast(7)) }.sorted()
    }
}
