// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import FoundationEssentials
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The rotations logrotate keeps of a log file, newest first: numbered names (`PATH.1`,
/// `PATH.2.gz`, …, Debian's default) and `dateext` names (`PATH-20261125`, `PATH-20261124.gz`, …,
/// the default on RHEL and Fedora: `/var/log/secure-20261125`), however many there are.
///
/// Newest means last written: both schemes lie side by side for weeks after an operator switches
/// a log from one to the other, and names then say nothing about which is older. logrotate keeps
/// a file's modification time when it renames or compresses it, so the time orders them; names
/// order only rotations written in the same instant.
///
/// A compressed rotation is opened decompressed: its content goes into an unlinked temporary
/// file, so it reads like any other file and its offsets are those of the original.
enum RotatedLogFiles {
    /// A rotated file larger than this decompressed is not read back (a guard, not a limit
    /// auth.log comes near).
    static let maxDecompressedBytes = 1 << 30

    /// Existing rotations of `path`, newest first.
    static func chain(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let base = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var rotations: [(name: String, modified: Double, order: Order)] = []
        for entry in entries where entry.hasPrefix(base) {
            guard let order = Order(base: base, entry: entry) else { continue }
            let name = directory + "/" + entry
            rotations.append((name, LogFileFollower.modified(name), order))
        }
        return rotations.sorted { a, b in a.modified != b.modified ? a.modified > b.modified : a.order < b.order }.map(\.name)
    }

    /// Where a name places a rotation among those written in the same instant: numbered before
    /// dated, lower numbers and later dates first, a plain file before its compressed copy.
    struct Order: Comparable {
        var scheme: Int
        var number: Int
        var date: String
        var compressed: Bool

        /// `nil` for a name that is not a rotation of `base` (`base.bak`, `base-old.txt`).
        init?(base: String, entry: String) {
            var rest = Substring(entry.dropFirst(base.count))
            compressed = rest.hasSuffix(".gz")
            if compressed { rest = rest.dropLast(3) }
            if rest.first == ".", let number = Int(rest.dropFirst()), number >= 0, rest.dropFirst().allSatisfy(\.isASCII) {
                (scheme, self.number, date) = (0, number, "")
            } else if rest.first == "-" {
                // logrotate's `dateformat` puts the year first (`-%Y%m%d` by default, also with hours or seconds).
                let stamp = rest.dropFirst()
                guard stamp.count >= 8, stamp.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
                (scheme, number, date) = (1, 0, String(stamp))
            } else {
                return nil
            }
        }

        static func < (a: Order, b: Order) -> Bool {
            if a.scheme != b.scheme { return a.scheme < b.scheme }
            if a.number != b.number { return a.number < b.number }
            if a.date != b.date { return a.date > b.date }
            return !a.compressed && b.compressed
        }
    }

    /// Whether `name` is read through a decompressed temporary copy (whose inode says nothing).
    static func isCompressed(_ name: String) -> Bool { name.hasSuffix(".gz") }

    /// Opens a rotation for reading, decompressing a `.gz`; `nil` when it cannot be read.
    static func open(_ name: String) -> OpenFile? {
        guard name.hasSuffix(".gz") else { return OpenFile(path: name) }
        guard let compressed = FileManager.default.contents(atPath: name) else { return nil }
        var input = ByteBuffer(bytes: compressed)
        guard let plain = try? input.decompress(with: .gzip(), maxSize: maxDecompressedBytes) else { return nil }
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/hosttrail-rotated-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return nil }
        let file = OpenFile(adopting: descriptor)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var written = 0
        let ok = plain.withUnsafeReadableBytes { raw -> Bool in
            while written < raw.count {
                let count = pwrite(descriptor, raw.baseAddress! + written, raw.count - written, off_t(written))
                if count <= 0 { return false }
                written += count
            }
            return true
        }
        return ok ? file : nil
    }
}
