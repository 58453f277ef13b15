// SPDX-License-Identifier: Apache-2.0

import CCRC32C

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as iSCSI, ext4 and LevelDB use.
///
/// With the processor's CRC-32C instruction where there is one (SSE 4.2 on x86-64, through the
/// `CCRC32C` shim): every spooled frame is checksummed, and the table-driven code below was about
/// a fifteenth of the tail path's CPU. Elsewhere, slicing-by-8 tables, eight bytes per step.
public enum CRC32C {
    /// Whether ``checksum(_:continuing:)`` uses the instruction (checked once per process).
    public static let usesHardware = hosttrail_crc32c_hardware_available() != 0

    /// The eight 256-entry tables one after the other, in memory that lives as long as the
    /// process (a flat pointer: no bounds check or array indirection per lookup).
    nonisolated(unsafe) static let table: UnsafePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            table[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return UnsafePointer(table)
    }()

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard usesHardware, let base = bytes.baseAddress else { return softwareChecksum(bytes, continuing: crc) }
        return ~hosttrail_crc32c_hardware_update(~crc, base, bytes.count)
    }

    /// The same, with the tables only (what a machine without the instruction runs; tests compare the two).
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var crc = ~crc
        guard var next = bytes.baseAddress else { return ~crc }
        var remaining = bytes.count
        let t = table
        while remaining >= 8 {
            let word = next.loadUnaligned(as: UInt64.self).littleEndian
            let low = crc ^ UInt32(truncatingIfNeeded: word)
            let high = UInt32(truncatingIfNeeded: word >> 32)
            crc =
                t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)] ^ t[5 * 256 + Int((low >> 16) & 0xFF)]
                ^ t[4 * 256 + Int(low >> 24)] ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
            next += 8
            remaining -= 8
        }
        while remaining > 0 {
            crc = (crc >> 8) ^ t[Int((crc ^ UInt32(next.load(as: UInt8.self))) & 0xFF)]
            next += 1
            remaining -= 1
        }
        return ~crc
    }

    public static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return crc }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }
}
