// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Which file a position belongs to: device and inode, and a hash of the file's first line (at
/// most ``headLimit`` bytes), so a reused inode or a truncated-and-rewritten file is not taken for
/// the one read before. Works for files of any size: a file without a complete first line has no
/// identity yet, and no lines to read either.
struct LogFileIdentity: Hashable, Sendable, Codable {
    var device: UInt64
    var inode: UInt64
    /// SHA-256 (hex, first 16 bytes) of the head.
    var head: String
    var headLength: Int

    static let headLimit = 256

    /// The identity of `file`, or `nil` while its first line is incomplete.
    static func of(_ file: OpenFile) -> LogFileIdentity? {
        of(descriptor: file.descriptor)
    }

    /// The identity of the open file `descriptor`, or `nil` while its first line is incomplete.
    static func of(descriptor: Int32) -> LogFileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        guard let head = head(descriptor: descriptor) else { return nil }
        return LogFileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), head: hash(head), headLength: head.count)
    }

    /// The first line including its newline, or the first ``headLimit`` bytes of a longer one.
    static func head(descriptor: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: headLimit)
        guard let count = try? buffer.withUnsafeMutableBytes({ try OpenFile.read(descriptor, into: $0, at: 0) }), count > 0 else { return nil }
        if let newline = buffer[0..<count].firstIndex(of: UInt8(ascii: "\n")) { return Array(buffer[0...newline]) }
        return count == headLimit ? buffer : nil
    }

    /// Whether `file` starts with the same head (whatever its inode: a copy matches).
    func sameContent(_ file: OpenFile) -> Bool {
        var buffer = [UInt8](repeating: 0, count: headLength)
        let count = try? buffer.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        return count == headLength && Self.hash(buffer) == head
    }

    static func hash(_ bytes: [UInt8]) -> String {
        ContentFingerprint.of(bytes)
    }

    /// The part of an event's position that names the file (device left out: it may change across
    /// boots). A file known only from a compressed rotation has no inode of its own (0, which no
    /// file has): its head names it.
    var positionKey: String { inode == 0 ? "head=\(head)" : "ino=\(inode);head=\(head)" }
}

/// A tailed file's checkpoint: which file, and the offset just past the last line consumed.
struct LogFileCheckpoint: Hashable, Sendable, Codable {
    /// `nil`: the start of whatever file the path names (a new file without a complete line yet).
    var identity: LogFileIdentity?
    var offset: Int
    /// When it was committed (seconds since the epoch): rotations last written after this hold
    /// lines the agent has not read, when the checkpoint's own file cannot be found.
    var savedAt: Double?

    /// Same file and offset (when it was saved does not matter).
    func samePlace(as other: LogFileCheckpoint) -> Bool {
        identity == other.identity && offset == other.offset
    }

    var encoded: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }

    init(identity: LogFileIdentity?, offset: Int) {
        self.identity = identity
        self.offset = offset
    }

    init?(encoded: String) {
        guard let value = try? JSONDecoder().decode(LogFileCheckpoint.self, from: Data(encoded.utf8)) else { return nil }
        self = value
    }
}
