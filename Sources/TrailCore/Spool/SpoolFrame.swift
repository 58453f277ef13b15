// SPDX-License-Identifier: Apache-2.0

/// The spool's on-disk format: a segment header, then framed entries.
///
/// ```
/// segment header (32 bytes): "HTSPOOL\0" | version u32 LE | reserved u32 | segment number u64 LE | created µs u64 LE
/// frame: length u32 LE (of kind + payload) | CRC-32C u32 LE (of kind + payload) | kind u8 | payload
/// ```
/// A record frame's payload is one canonical record; a checkpoint frame's is a source's position,
/// so a checkpoint is committed by the same fsync as the records it covers.
public enum SpoolFrame {
    public static let magic: [UInt8] = Array("HTSPOOL".utf8) + [0]
    public static let version: UInt32 = 1
    public static let headerSize = 32
    public static let frameOverhead = 9
    /// No entry is larger (an event is at most 256 KiB; a record adds host and identity).
    public static let maxPayload = 4 * 1024 * 1024

    public enum Kind: UInt8, Sendable {
        case record = 1
        case checkpoint = 2
    }

    public static func header(segment: UInt64, createdMicroseconds: UInt64) -> [UInt8] {
        var bytes = magic
        appendLittleEndian(&bytes, version)
        appendLittleEndian(&bytes, UInt32(0))
        appendLittleEndian(&bytes, segment)
        appendLittleEndian(&bytes, createdMicroseconds)
        return bytes
    }

    /// Appends one frame to `buffer`.
    public static func append(_ kind: Kind, payload: some Collection<UInt8>, to buffer: inout [UInt8]) {
        append(kind, to: &buffer) { $0.append(contentsOf: payload) }
    }

    /// Appends one frame whose payload `writePayload` appends to the buffer it is given: the
    /// payload is written once, in place, and the length and checksum filled in after it.
    public static func append(_ kind: Kind, to buffer: inout [UInt8], writePayload: (inout [UInt8]) -> Void) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 8))
        buffer.append(kind.rawValue)
        writePayload(&buffer)
        let bodyCount = buffer.count - start - 8
        buffer.withUnsafeMutableBytes { bytes in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(start + 8)...]))
            bytes.storeBytes(of: UInt32(bodyCount).littleEndian, toByteOffset: start, as: UInt32.self)
            bytes.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// What is wrong with a segment's header, or `nil`: the segment number it names.
    public static func parseHeader(_ bytes: some Collection<UInt8>) -> Result<UInt64, HeaderProblem> {
        let array = Array(bytes.prefix(headerSize))
        guard array.count == headerSize else { return .failure(.truncated) }
        guard Array(array[0..<8]) == magic else { return .failure(.badMagic) }
        let version = readLittleEndian(array, at: 8, as: UInt32.self)
        guard version == Self.version else { return .failure(.unsupportedVersion(version)) }
        return .success(readLittleEndian(array, at: 16, as: UInt64.self))
    }

    public enum HeaderProblem: Error, Hashable, Sendable {
        case truncated
        case badMagic
        case unsupportedVersion(UInt32)
    }

    /// One entry found by ``scan(_:from:)``.
    public struct Entry: Sendable, Hashable {
        public var kind: Kind
        /// Offset of the frame in the segment.
        public var offset: Int
        /// Offset just past the frame.
        public var end: Int
        public var payload: ArraySlice<UInt8>
    }

    /// The result of reading a segment's frames.
    public struct Scan: Sendable {
        public var entries: [Entry] = []
        /// Where a frame that runs past the end of the data starts (a torn write), if one does.
        public var tornTailOffset: Int?
        /// Byte ranges skipped because they held no valid frame (corruption).
        public var corruptRanges: [Range<Int>] = []
        /// Where reading stopped: the end of the last whole valid frame, or of the data.
        public var validEnd: Int = 0
        /// Where the zero bytes the spool writes ahead of its data (prepared space) begin: the
        /// end of what was written, and the size of the segment's contents.
        public var dataEnd: Int = 0
    }

    /// Reads every valid frame of `bytes` (a segment's contents) from `start`.
    ///
    /// A frame that fails its CRC, or has an impossible length or kind, is corruption: the scan
    /// slides forward a byte at a time until a valid frame starts again, so one flipped byte costs
    /// one record, not the rest of the segment. A frame that runs past the data, or that fails
    /// where only the zeros of prepared space follow (the spool writes zeros ahead of its data so
    /// that a commit overwrites allocated blocks), is a torn tail when nothing valid follows it.
    /// The zeros themselves are neither data nor damage.
    public static func scan(_ bytes: [UInt8], from start: Int = headerSize) -> Scan {
        var scan = Scan()
        var offset = start
        var corruptStart: Int?
        bytes.withUnsafeBytes { raw in
            let dataEnd = max(min(start, bytes.count), endOfData(raw))
            scan.dataEnd = dataEnd
            let padded = dataEnd < bytes.count
            while offset < dataEnd, offset + frameOverhead <= bytes.count {
                let length = Int(readLittleEndian(raw, at: offset, as: UInt32.self))
                let crc = readLittleEndian(raw, at: offset + 4, as: UInt32.self)
                let bodyStart = offset + 8
                if length >= 1, length <= maxPayload + 1, bodyStart + length <= bytes.count,
                    let kind = Kind(rawValue: raw[bodyStart]),
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)])) == crc
                {
                    if let corrupt = corruptStart {
                        scan.corruptRanges.append(corrupt..<offset)
                        corruptStart = nil
                    }
                    scan.entries.append(
                        Entry(kind: kind, offset: offset, end: bodyStart + length, payload: bytes[(bodyStart + 1)..<(bodyStart + length)]))
                    offset = bodyStart + length
                    scan.validEnd = offset
                    continue
                }
                if corruptStart == nil {
                    let runsPastEnd = length >= 1 && length <= maxPayload + 1 && bodyStart + length > bytes.count
                    if (runsPastEnd || padded) && !hasValidFrame(raw, after: offset + 1) {
                        // A write that never finished.
                        scan.tornTailOffset = offset
                        return
                    }
                    corruptStart = offset
                }
                offset += 1
            }
            if let corrupt = corruptStart {
                scan.corruptRanges.append(corrupt..<dataEnd)
            } else if offset < dataEnd {
                scan.tornTailOffset = offset  // fewer bytes than a frame header
            }
        }
        if scan.validEnd == 0 { scan.validEnd = start }
        return scan
    }

    /// The offset just past the last non-zero byte (the start of any trailing run of zeros).
    static func endOfData(_ raw: UnsafeRawBufferPointer) -> Int {
        var end = raw.count
        // Eight bytes at a time while whole words are zero, then byte by byte.
        while end >= 8, raw.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
        while end > 0, raw[end - 1] == 0 { end -= 1 }
        return end
    }

    static func hasValidFrame(_ raw: UnsafeRawBufferPointer, after start: Int) -> Bool {
        var offset = start
        while offset + frameOverhead <= raw.count {
            let length = Int(readLittleEndian(raw, at: offset, as: UInt32.self))
            let bodyStart = offset + 8
            if length >= 1, length <= maxPayload + 1, bodyStart + length <= raw.count, Kind(rawValue: raw[bodyStart]) != nil,
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)]))
                    == readLittleEndian(raw, at: offset + 4, as: UInt32.self)
            {
                return true
            }
            offset += 1
        }
        return false
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func readLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        bytes.withUnsafeBytes { readLittleEndian($0, at: offset, as: T.self) }
    }

    static func readLittleEndian<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, at offset: Int, as: T.Type) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + MemoryLayout<T>.size)])) }
        return T(littleEndian: value)
    }
}
