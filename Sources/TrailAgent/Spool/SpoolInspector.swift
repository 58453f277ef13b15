// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a spool without changing it, for `hosttrail-agent spool verify|stats` (offline, or
/// beside a running agent: it only reads committed files).
public struct SpoolInspector: Sendable {
    /// What the spool holds.
    public struct Report: Sendable, Codable {
        public var directory: String
        public var inUseByAgent: Bool
        public var segments: Int
        public var bytes: Int
        public var pendingRecords: Int
        public var acknowledgedPosition: String
        public var counters: SpoolCounters?
        public var deadLetterBatches: Int
        public var quarantinedFiles: Int
        public var problems: [String]
    }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func inspect() throws -> Report {
        guard FileManager.default.fileExists(atPath: directory + "/segments") else {
            throw AgentError(.spoolIO, "not a spool directory (no segments/)", path: directory)
        }
        let state = SpoolStateFile.read(directory: directory)
        let acknowledged = state?.acknowledged ?? SpoolPosition(segment: 0, offset: 0)
        var report = Report(
            directory: directory, inUseByAgent: Self.isLocked(directory), segments: 0, bytes: 0, pendingRecords: 0,
            acknowledgedPosition: acknowledged.description, counters: state?.counters,
            deadLetterBatches: Self.count(directory + "/dead-letter", suffix: ".ndjson"),
            quarantinedFiles: Self.count(directory + "/quarantine", suffix: ""), problems: [])
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/segments")) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
        for (index, name) in names.enumerated() {
            guard let number = Spool.segmentNumber(name) else { continue }
            let bytes = try Spool.readAll(directory + "/segments/" + name)
            report.segments += 1
            report.bytes += bytes.count
            if case .failure(let problem) = SpoolFrame.parseHeader(bytes) {
                report.problems.append("\(name): bad header (\(problem))")
                continue
            }
            let scan = SpoolFrame.scan(bytes)
            if let torn = scan.tornTailOffset {
                let isActive = index == names.count - 1
                report.problems.append(
                    "\(name): \(scan.dataEnd - torn) bytes at offset \(torn) are an unfinished write\(isActive && report.inUseByAgent ? " (may be in progress)" : "")"
                )
            }
            for range in scan.corruptRanges {
                report.problems.append("\(name): \(range.count) corrupt bytes at offset \(range.lowerBound) (checksum mismatch)")
            }
            report.pendingRecords +=
                scan.entries.filter { $0.kind == .record && SpoolPosition(segment: number, offset: $0.offset) >= acknowledged }.count
        }
        return report
    }

    static func isLocked(_ directory: String) -> Bool {
        let fd = open(directory + "/lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    static func count(_ directory: String, suffix: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { suffix.isEmpty || $0.hasSuffix(suffix) }.count
    }
}
