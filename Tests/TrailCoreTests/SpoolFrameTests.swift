// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCore

struct SpoolFrameTests {
    @Test func crc32cMatchesPublishedCheckValues() {
        // RFC 3720 appendix B.4 and the "123456789" check value of CRC-32C.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.softwareChecksum($0) } == 0xE306_9283)
    }

    @Test func theInstructionAndTheTablesAgree() {
        // Every length to 80 bytes, every start within a word, and continuing over a split, so the
        // word loop, the byte tail and the register hand-over are each covered.
        #if arch(x86_64)
            #expect(CRC32C.usesHardware, "every x86-64 server since 2008 has SSE 4.2; without it the instruction path goes untested")
        #endif
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<8 {
                for count in 0...80 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)])
                    #expect(CRC32C.checksum(slice) == CRC32C.softwareChecksum(slice), "start \(start), count \(count)")
                    let half = count / 2
                    let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: slice[..<half]))
                    #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: slice[half...]), continuing: first) == CRC32C.softwareChecksum(slice))
                }
            }
        }
    }

    func segment(_ payloads: [String]) -> [UInt8] {
        var bytes = SpoolFrame.header(segment: 7, createdMicroseconds: 1)
        for payload in payloads { SpoolFrame.append(.record, payload: Array(payload.utf8), to: &bytes) }
        return bytes
    }

    @Test func framesRoundTrip() throws {
        let bytes = segment(["one", "two", String(repeating: "x", count: 5000)])
        #expect(try SpoolFrame.parseHeader(bytes).get() == 7)
        let scan = SpoolFrame.scan(bytes)
        #expect(scan.entries.map { String(decoding: $0.payload, as: UTF8.self) } == ["one", "two", String(repeating: "x", count: 5000)])
        #expect(scan.tornTailOffset == nil)
        #expect(scan.corruptRanges.isEmpty)
        #expect(scan.validEnd == bytes.count)
    }

    @Test func aTornTailIsFoundWhereverTheWriteStopped() {
        let whole = segment(["one", "two", "three"])
        let lastFrame = SpoolFrame.scan(whole).entries[2].offset
        for cut in (lastFrame + 1)..<whole.count {
            let scan = SpoolFrame.scan(Array(whole[..<cut]))
            #expect(scan.entries.count == 2, "cut at \(cut)")
            #expect(scan.tornTailOffset == lastFrame, "cut at \(cut)")
            #expect(scan.corruptRanges.isEmpty)
        }
    }

    @Test func preparedZerosAfterTheFramesAreNeitherDataNorDamage() {
        let whole = segment(["one", "two", "three"])
        let scan = SpoolFrame.scan(whole + [UInt8](repeating: 0, count: 70_000))
        #expect(scan.entries.count == 3)
        #expect(scan.tornTailOffset == nil)
        #expect(scan.corruptRanges.isEmpty)
        #expect(scan.dataEnd == whole.count)
        #expect(scan.validEnd == whole.count)
        #expect(SpoolFrame.scan(whole).dataEnd == whole.count)
    }

    @Test func aWriteTornInsidePreparedSpaceIsATornTail() {
        let whole = segment(["one", "two", String(repeating: "x", count: 300)])
        let lastFrame = SpoolFrame.scan(whole).entries[2].offset
        for cut in (lastFrame + 1)..<whole.count {
            // The commit stopped part-way: the rest of its frame is still the prepared zeros.
            let scan = SpoolFrame.scan(Array(whole[..<cut]) + [UInt8](repeating: 0, count: whole.count - cut + 4096))
            #expect(scan.entries.count == 2, "cut at \(cut)")
            #expect(scan.tornTailOffset == lastFrame, "cut at \(cut)")
            #expect(scan.corruptRanges.isEmpty, "cut at \(cut)")
        }
    }

    @Test func aFlippedByteBeforePreparedSpaceIsCorruptionNotATornTail() {
        var bytes = segment((0..<10).map { "record-\($0)" })
        let victim = SpoolFrame.scan(bytes).entries[4]
        bytes[victim.offset + 10] ^= 0x5A
        let scan = SpoolFrame.scan(bytes + [UInt8](repeating: 0, count: 8192))
        #expect(scan.entries.count == 9)
        #expect(scan.corruptRanges == [victim.offset..<victim.end])
        #expect(scan.tornTailOffset == nil)
    }

    @Test func aFlippedByteCostsOneRecordAndTheRestAreKept() {
        var bytes = segment((0..<20).map { "record-\($0)-" + String(repeating: "p", count: 40) })
        let victim = SpoolFrame.scan(bytes).entries[9]
        bytes[victim.offset + 20] ^= 0x5A
        let scan = SpoolFrame.scan(bytes)
        #expect(scan.entries.count == 19)
        #expect(!scan.entries.contains { String(decoding: $0.payload, as: UTF8.self).hasPrefix("record-9-") })
        #expect(scan.corruptRanges == [victim.offset..<victim.end])
        #expect(scan.tornTailOffset == nil)
    }

    @Test func aDamagedLengthDoesNotLoseWhatFollows() {
        var bytes = segment((0..<10).map { "r\($0)" })
        let victim = SpoolFrame.scan(bytes).entries[3]
        bytes[victim.offset + 3] = 0x7F  // length now claims ~2 GB
        let scan = SpoolFrame.scan(bytes)
        #expect(scan.entries.count == 9)
        #expect(scan.corruptRanges.count == 1)
    }

    @Test(arguments: [[UInt8](), Array("HTSPOOL".utf8), Array("NOTSPOOL".utf8) + [UInt8](repeating: 0, count: 24)])
    func badHeadersAreNamed(bytes: [UInt8]) {
        guard case .failure = SpoolFrame.parseHeader(bytes) else {
            Issue.record("accepted a bad header")
            return
        }
    }
}
