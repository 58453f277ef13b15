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
    }

    /// Writes `entries` as the journal file `name` (ending in `.journal`) in `directory`.
    static func write(_ entries: [Entry], to directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var export = ""
        for entry in entries {
            // Within one boot, journald orders entries of different files by the monotonic clock:
            // it must advance with the realtime one.
            export += "__REALTIME_TIMESTAMP=\(entry.realtime)\n__MONOTONIC_TIMESTAMP=\(entry.realtime - Self.bootRealtime)\n_BOOT_ID=\(entry.bootID)\n"
            export += "_HOSTNAME=fixture\nSYSLOG_IDENTIFIER=\(entry.identifier)\nSYSLOG_FACILITY=\(entry.facility)\n_PID=\(entry.pid)\n"
            export += "_TRANSPORT=syslog\n"
            for (key, value) in entry.extra.sorted(by: { $0.key < $1.key }) { export += "\(key)=\(value)\n" }
            export += "MESSAGE=\(entry.message)\n\n"
        }
        let result = try Command.run("/lib/systemd/systemd-journal-remote", ["-o", directory + "/" + name, "-"], stdin: Data(export.utf8))
        guard result.status == 0 else { throw TestProcess.Failure(description: "systemd-journal-remote: \(result)") }
    }

    /// The realtime the fixtures' boot began (2023-11-14), µs since the epoch.
    static let bootRealtime: UInt64 = 1_700_000_000_000_000

    /// Now, in µs since the epoch, minus `secondsAgo`.
    static func realtime(secondsAgo: Double) -> UInt64 {
        UInt64((Date().timeIntervalSince1970 - secondsAgo) * 1_000_000)
    }
}
