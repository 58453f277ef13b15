// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// The spool's acknowledgement position and counters, in a preallocated file written in place.
///
/// Two 4 KiB slots, each `length u32 | CRC-32C u32 | sequence u64 | JSON`; a write goes to the slot
/// not holding the latest state and is fsync'd, so a crash mid-write leaves the other slot intact.
/// Writing in place needs no free disk space, which matters most when the disk is full: the
/// acknowledgement that lets the agent delete segments must never fail for lack of room.
final class SpoolStateFile {
    static let slotSize = 4096
    static let fileName = "state"

    struct State: Codable {
        var acknowledged: SpoolPosition
        var counters: SpoolCounters
        /// Each source's latest committed checkpoint. Kept here as well as in the segments, because
        /// acknowledged segments are deleted or recycled: a source must not lose its place with them.
        var checkpoints: [String: String]? = nil
    }

    private let descriptor: Int32
    private var sequence: UInt64

    /// Opens (creating and preallocating) the state file and reads the latest valid state.
    init(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let existed = FileManager.default.fileExists(atPath: path)
        let fd: Int32
        do {
            fd = try SystemCall.check("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640) }
            if !existed {
                let result = posix_fallocate(fd, 0, off_t(Self.slotSize * 2))
                guard result == 0 else {
                    close(fd)
                    throw SystemCall.Failure(call: "posix_fallocate", errno: result)
                }
                try SystemCall.check("fsync") { fsync(fd) }
                try SystemCall.syncDirectory(directory)
            }
        } catch {
            throw AgentError(.spoolIO, "cannot open the spool state", path: path, underlyingError: error)
        }
        descriptor = fd
        sequence = Self.latest(fd)?.sequence ?? 0
    }

    deinit {
        close(descriptor)
    }

    /// The latest valid state, or `nil` for a new spool.
    var current: State? {
        Self.latest(descriptor)?.state
    }

    /// Writes `state` durably into the older slot.
    func write(_ state: State) throws {
        let next = sequence + 1
        let json = try JSONEncoder().encode(state)
        guard json.count + 16 <= Self.slotSize else { throw AgentError(.spoolIO, "spool state too large") }
        var body = [UInt8]()
        withUnsafeBytes(of: next.littleEndian) { body.append(contentsOf: $0) }
        body.append(contentsOf: json)
        var slot = [UInt8]()
        withUnsafeBytes(of: UInt32(body.count).littleEndian) { slot.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(body).littleEndian) { slot.append(contentsOf: $0) }
        slot.append(contentsOf: body)
        slot.append(contentsOf: [UInt8](repeating: 0, count: Self.slotSize - slot.count))
        let offset = off_t(Int(next % 2) * Self.slotSize)
        try slot.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                written += try SystemCall.check("pwrite") {
                    pwrite(descriptor, raw.baseAddress! + written, raw.count - written, offset + off_t(written))
                }
            }
        }
        try SystemCall.check("fdatasync") { fdatasync(descriptor) }
        sequence = next
    }

    /// Reads the state in a spool directory without opening it for writing (for `spool stats`).
    static func read(directory: String) -> State? {
        let fd = open(directory + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return latest(fd)?.state
    }

    private static func latest(_ fd: Int32) -> (sequence: UInt64, state: State)? {
        var best: (UInt64, State)?
        for index in 0..<2 {
            var slot = [UInt8](repeating: 0, count: slotSize)
            let got = slot.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, slotSize, off_t(index * slotSize)) }
            guard got == slotSize else { continue }
            let length = Int(UInt32(littleEndian: slot.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self) }))
            let crc = UInt32(littleEndian: slot.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
            guard length >= 8, length <= slotSize - 8 else { continue }
            let body = Array(slot[8..<(8 + length)])
            guard CRC32C.checksum(body) == crc else { continue }
            let sequence = UInt64(littleEndian: body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self) })
            guard let state = try? JSONDecoder().decode(State.self, from: Data(body[8...])) else { continue }
            if best.map({ sequence > $0.0 }) ?? true { best = (sequence, state) }
        }
        return best.map { (sequence: $0.0, state: $0.1) }
    }
}

@available(*, unavailable)
extension SpoolStateFile: Sendable {}
