// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Reads `/var/log/dpkg.log`: `2026-11-24 16:30:30 install curl:amd64 <none> 7.88.1-10`.
///
/// Only the actions become records (`install`, `upgrade`, `remove`, `purge`); the `status`,
/// `configure`, `trigproc` and `startup` lines that accompany each are understood and skipped.
/// dpkg writes local time without a zone: the host's offset is passed in.
public enum DpkgLogParser {
    public struct Line: Sendable, Hashable {
        public var time: Date
        public var outcome: AuthLogParser.Outcome
    }

    static let actions = ["install": "InstallPackage", "upgrade": "UpgradePackage", "remove": "RemovePackage", "purge": "PurgePackage"]

    /// Parses one line (without its newline); `nil` when it is not a dpkg.log line.
    public static func parse(_ line: Substring, utcOffsetSeconds: Int) -> Line? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 3, let time = TrailTime.parseISO8601("\(words[0])T\(words[1])Z") else { return nil }
        let local = time.addingTimeInterval(-Double(utcOffsetSeconds))
        let action = String(words[2])
        guard let eventName = actions[action] else {
            return Line(time: local, outcome: ["status", "configure", "trigproc", "startup", "conffile"].contains(action) ? .ignored : .unknown)
        }
        guard words.count >= 6 else { return Line(time: local, outcome: .unknown) }
        let package = words[3]
        var parameters: [String: JSONValue] = [:]
        if let colon = package.firstIndex(of: ":") {
            parameters["package"] = .string(String(package[..<colon]))
            parameters["architecture"] = .string(String(package[package.index(after: colon)...]))
        } else {
            parameters["package"] = .string(String(package))
        }
        if words[4] != "<none>" { parameters["fromVersion"] = .string(String(words[4])) }
        if words[5] != "<none>" { parameters["toVersion"] = .string(String(words[5])) }
        return Line(
            time: local,
            outcome: .activity(
                HostActivity(
                    eventSource: "dpkg.linux", eventName: eventName, userName: "root", uid: 0, requestParameters: parameters)))
    }
}
