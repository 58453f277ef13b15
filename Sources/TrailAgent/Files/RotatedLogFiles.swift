// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import FoundationEssentials
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The rotations logrotate keeps of a log file, newest first: `PATH.1`, `PATH.1.gz`, `PATH.2`, …
/// (numbered names, Debian's default), then `PATH-20261125`, `PATH-20261124.gz`, … (`dateext`,
/// the default on RHEL and Fedora: `/var/log/secure-20261125`).
///
/// A compressed rotation is opened decompressed: its content goes into an unlinked temporary
/// file, so it reads like any other file and its offsets are those of the original.
enum RotatedLogFiles {
    static let deepest = 20
    /// A rotated file larger than this decompressed is not read back (a guard, not a limit
    /// auth.log comes near).
    static let maxDecompressedBytes = 1 << 30

    /// Existing rotations of `path`, newest first.
    static func chain(of path: String) -> [String] {
        var names: [String] = []
        for number in 1...deepest {
            for name in ["\(path).\(number)", "\(path).\(number).gz"] where FileManager.default.fileExists(atPath: name) {
                names.append(name)
            }
        }
        return names + dated(path)
    }

    /// `dateext` rotations: `NAME-` and a date in the same directory, newest first. logrotate's
    /// `dateformat` puts the year first (`-%Y%m%d` by default, also with hours or seconds), so
    /// names order as dates do.
    static func dated(_ path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + "-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let dated = entries.filter { name in
            guard name.hasPrefix(prefix) else { return false }
            let date = name.dropFirst(prefix.count).prefix { $0 != "." }
            return date.count >= 8 && date.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "_") }
                && (name.dropFirst(prefix.count + date.count).isEmpty || name.hasSuffix(".gz"))
        }
        // Newest date first; for one date the plain file before its compressed copy.
        return dated.sorted { a, b in
            let (keyA, keyB) = (a.hasSuffix(".gz") ? String(a.dropLast(3)) : a, b.hasSuffix(".gz") ? String(b.dropLast(3)) : b)
            return keyA != keyB ? keyA > keyB : !a.hasSuffix(".gz")
        }.map { directory + "/" + $0 }
    }

    /// Opens a rotation for reading, decompressing a `.gz`; `nil` when it cannot be read.
    static func open(_ name: String) -> Int32? {
        guard name.hasSuffix(".gz") else { return LogFileFollower.open(name) }
        guard let compressed = FileManager.default.contents(atPath: name) else { return nil }
        var input = ByteBuffer(bytes: compressed)
        guard let plain = try? input.decompress(with: .gzip(), maxSize: maxDecompressedBytes) else { return nil }
        var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/hosttrail-rotated-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return nil }
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
        guard ok else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
}
