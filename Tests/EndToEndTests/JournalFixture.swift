// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailTestSupport

/// Journal files written by `systemd-journal-remote` from journal export text: deterministic
/// entries (times, boot ids, identifiers) that no live journald would produce on demand.
struct JournalFixture {
    struct Entry {
        var identifier: String
        var message: String
        /// µs since the epoch.
        var realtime: UInt64
        var pid: Int = 4242
        var facility: Int = 4
        var bootID = "0123456789abcdef0123456789abcdef"
        var extra: [String: String] = [:]
        /// The message as raw bytes (written in the export format's binary form), instead of `message`.
        var binaryMessage: [UInt8]? = nil
    }

    /// Writes `entries` as the journal file `name` (ending in `.journal`) in `directory`.
    static func write(_ entries: [Entry], to directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var export = Data()
        for entry in entries {
            var text = ""
            // Within one boot, journald orders entries of different files by the monotonic clock:
            // it must advance with the realtime one.
            text += "__REALTIME_TIMESTAMP=\(entry.realtime)\n__MONOTONIC_TIMESTAMP=\(entry.realtime - Self.bootRealtime)\n_BOOT_ID=\(entry.bootID)\n"
            text += "_HOSTNAME=fixture\nSYSLOG_IDENTIFIER=\(entry.identifier)\nSYSLOG_FACILITY=\(entry.facility)\n_PID=\(entry.pid)\n"
            text += "_TRANSPORT=syslog\n"
            for (key, value) in entry.extra.sorted(by: { $0.key < $1.key }) { text += "\(key)=\(value)\n" }
            export.append(contentsOf: Data(text.utf8))
            if let bytes = entry.binaryMessage {
                // Export format, binary field: name, newline, little-endian 64-bit length, bytes, newline.
                export.append(contentsOf: Data("MESSAGE\n".utf8))
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { export.append(contentsOf: $0) }
                export.append(contentsOf: bytes)
                export.append(contentsOf: Data("\n\n".utf8))
            } else {
                export.append(contentsOf: Data("MESSAGE=\(entry.message)\n\n".utf8))
            }
        }
        let result = try Command.run("/lib/systemd/systemd-journal-remote", ["-o", directory + "/" + name, "-"], stdin: export)
        guard result.status == 0 else { throw TestProcess.Failure(description: "systemd-journal-remote: \(result)") }
    }

    /// The realtime the fixtures' boot began (2023-11-14), µs since the epoch.
    static let bootRealtime: UInt64 = 1_700_000_000_000_000

    /// Now, in µs since the epoch, minus `secondsAgo`.
    static func realtime(secondsAgo: Double) -> UInt64 {
        UInt64((Date().timeIntervalSince1970 - secondsAgo) * 1_000_000)
    }
}
