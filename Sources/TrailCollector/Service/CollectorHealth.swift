// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import Synchronization
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the collector can take work, for `/readyz` (and a load balancer in front of several
/// collectors): the store takes a write lock, the data directory's file system has more than
/// `min-free-disk-mb` free, the last commit did not fail in the last 30 s, and the archive
/// (when on) is no further behind than ``maxArchiveLag``.
public final class CollectorHealth: Sendable {
    struct Report: Sendable {
        var ready: Bool
        var problems: [String]
        var archiveLagSeconds: Double?
        var freeBytes: Int?

        var json: [UInt8] {
            var members: [String: JSONValue] = [
                "status": .string(ready ? "ready" : "not ready"), "problems": .array(problems.map(JSONValue.string)),
            ]
            if let archiveLagSeconds { members["archiveLagSeconds"] = .integer(Int64(archiveLagSeconds)) }
            if let freeBytes { members["dataFreeBytes"] = .integer(Int64(freeBytes)) }
            return JSONValue.object(members).serialized()
        }
    }

    private let store: SQLiteEventStore
    private let archive: (any ArchiveLedger)?
    private let dataDirectory: String
    private let minFreeBytes: Int
    /// The archive this far behind the store is not keeping up: three log-file intervals, 10 min at least.
    let maxArchiveLag: Duration
    private let lastCommitFailure = Mutex<Date?>(nil)

    init(store: SQLiteEventStore, archive: (any ArchiveLedger)?, configuration: CollectorConfiguration) {
        self.store = store
        self.archive = archive
        dataDirectory = configuration.dataDirectory
        minFreeBytes = configuration.minFreeDiskBytes
        maxArchiveLag = max(configuration.logFileInterval * 3, .seconds(600))
    }

    /// A commit failed (the store is unwritable, full or locked): not ready for 30 s.
    func commitFailed() {
        lastCommitFailure.withLock { $0 = Date() }
    }

    func readiness(now: Date = Date()) async -> Report {
        var problems: [String] = []
        do {
            try await store.probeWrite()
        } catch {
            problems.append("the store cannot be written: \(error)")
        }
        if let failed = lastCommitFailure.withLock({ $0 }), now.timeIntervalSince(failed) < 30 {
            problems.append("a commit failed \(Int(now.timeIntervalSince(failed))) s ago")
        }
        var freeBytes: Int?
        var status = statvfs()
        if statvfs(dataDirectory, &status) == 0 {
            let free = Int(status.f_bavail) * Int(status.f_frsize)
            freeBytes = free
            if free < minFreeBytes { problems.append("\(free >> 20) MiB free for the data directory, below \(minFreeBytes >> 20) MiB") }
        } else {
            problems.append("cannot read the data directory's file system: \(String(cString: strerror(errno)))")
        }
        var lag: Double?
        if let archive {
            do {
                let oldest = try await archive.oldestUnarchivedReceivedAt()
                let seconds = oldest.map { max(0, now.timeIntervalSince1970 - Double($0) / 1000) } ?? 0
                lag = seconds
                if seconds > Double(maxArchiveLag.components.seconds) {
                    problems.append("the archive is \(Int(seconds)) s behind the store (over \(maxArchiveLag.components.seconds) s)")
                }
            } catch {
                problems.append("cannot read the archive's progress: \(error)")
            }
        }
        return Report(ready: problems.isEmpty, problems: problems, archiveLagSeconds: lag, freeBytes: freeBytes)
    }
}
