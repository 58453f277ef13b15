// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import Synchronization
import TrailCore
import TrailMetrics

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

        /// The answer's body; the reasons and figures only when `detailed` (on the loopback metrics
        /// listener, not on the network-facing port, where anyone may ask).
        func json(detailed: Bool) -> [UInt8] {
            var members: [String: JSONValue] = ["status": .string(ready ? "ready" : "not ready")]
            if detailed {
                members["problems"] = .array(problems.map(JSONValue.string))
                if let archiveLagSeconds { members["archiveLagSeconds"] = .integer(Int64(archiveLagSeconds)) }
                if let freeBytes { members["dataFreeBytes"] = .integer(Int64(freeBytes)) }
            }
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
    private let listening = Atomic<Bool>(false)
    /// Bumped by what invalidates a report (the listener up, a commit failed).
    private let changes = Atomic<Int>(0)
    /// The last report and when it was made: probes (a load balancer's, a scraper's, the status
    /// line's) share one check every ``reportLifetime`` instead of each taking the store's write lock.
    private let lastReport = Mutex<(at: ContinuousClock.Instant, report: Report)?>(nil)
    private let checking = AsyncLock()
    static let reportLifetime: Duration = .seconds(5)

    init(store: SQLiteEventStore, archive: (any ArchiveLedger)?, configuration: CollectorConfiguration) {
        self.store = store
        self.archive = archive
        dataDirectory = configuration.dataDirectory
        minFreeBytes = configuration.minFreeDiskBytes
        maxArchiveLag = max(configuration.logFileInterval * 3, .seconds(600))
    }

    /// The HTTPS listener accepts connections: ready from now on, other checks allowing.
    func markListening() {
        listening.store(true, ordering: .relaxed)
        changes.add(1, ordering: .relaxed)
        lastReport.withLock { $0 = nil }
    }

    /// A commit failed (the store is unwritable, full or locked): not ready for 30 s.
    func commitFailed() {
        lastCommitFailure.withLock { $0 = Date() }
        changes.add(1, ordering: .relaxed)
        lastReport.withLock { $0 = nil }
    }

    /// The latest report, made anew when older than ``reportLifetime`` (one check at a time).
    func readiness() async -> Report {
        await checking.withLock {
            if let last = lastReport.withLock({ $0 }), ContinuousClock.now - last.at < Self.reportLifetime { return last.report }
            // Dated when it began, and kept only if nothing changed meanwhile: a check that waited
            // on a busy store, or saw the listener before it was up, is not served afterwards.
            let began = ContinuousClock.now
            let generation = changes.load(ordering: .relaxed)
            let report = await check(now: Date())
            if changes.load(ordering: .relaxed) == generation { lastReport.withLock { $0 = (began, report) } }
            return report
        }
    }

    func check(now: Date) async -> Report {
        var problems: [String] = []
        if !listening.load(ordering: .relaxed) { problems.append("the HTTPS listener is not up yet") }
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
