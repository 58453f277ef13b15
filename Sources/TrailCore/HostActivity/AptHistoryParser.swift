// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Reads `/var/log/apt/history.log`, where apt writes one stanza per run, blank-line separated:
///
/// ```
/// Start-Date: 2026-11-24  16:30:01
/// Commandline: apt-get install -y nginx
/// Requested-By: alice (1000)
/// Install: nginx:amd64 (1.22.1-9), nginx-common:amd64 (1.22.1-9, automatic)
/// Upgrade: curl:amd64 (7.88.1-10, 7.88.1-10+deb12u5)
/// End-Date: 2026-11-24  16:30:05
/// ```
///
/// A stanza becomes one `apt.linux` record naming who asked (`Requested-By`: the user behind sudo;
/// without it, root ran apt itself), the command line and every package with its versions, so
/// the `dpkg.linux` records of the same minutes (one per package, as `root`) can be traced to a
/// person. apt writes local time without a zone: the host's offset is passed in.
public enum AptHistoryParser {
    /// Collects a stanza's lines as they are tailed; a stanza is complete at its `End-Date`.
    public struct Assembler: Sendable {
        /// The `Start-Date` line's offset and position key of the stanza being read, if any.
        public private(set) var pendingStart: (positionKey: String, offset: Int)?
        private var fields: [(String, String)] = []

        public init() {}

        /// The fields read so far of the stanza being read (apt writes all but `End-Date` before dpkg starts).
        public var pendingFields: [(String, String)] { pendingStart == nil ? [] : fields }

        /// Takes one line; returns the stanza's fields (in file order) and where it started once
        /// its `End-Date` line arrives — or, for a run apt never finished (killed, power lost), once
        /// the next stanza's `Start-Date` shows it never will (it then has no `End-Date`).
        public mutating func feed(_ line: Substring, positionKey: String, offset: Int) -> (fields: [(String, String)], start: Int)? {
            guard let colon = line.firstIndex(of: ":") else { return nil }  // blank or foreign lines
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            if key == "Start-Date" {
                let interrupted = pendingStart.map { (fields, $0.offset) }
                pendingStart = (positionKey, offset)
                fields = [(key, value)]
                return interrupted
            }
            guard let start = pendingStart else { return nil }  // the middle of a stanza begun before reading started
            fields.append((key, value))
            guard key == "End-Date" else { return nil }
            let done = (fields, start.offset)
            pendingStart = nil
            fields = []
            return done
        }
    }

    static let actions: [(field: String, eventName: String)] = [
        ("Install", "InstallPackages"), ("Reinstall", "ReinstallPackages"), ("Upgrade", "UpgradePackages"),
        ("Downgrade", "DowngradePackages"), ("Remove", "RemovePackages"), ("Purge", "PurgePackages"),
    ]

    /// The activity of a complete stanza and when it started; `nil` when it has no start date.
    public static func activity(_ fields: [(String, String)], utcOffsetSeconds: Int) -> (activity: HostActivity, time: Date)? {
        var values: [String: String] = [:]
        for (key, value) in fields where values[key] == nil { values[key] = value }
        guard let start = values["Start-Date"].flatMap({ parseDate($0, utcOffsetSeconds: utcOffsetSeconds) }) else { return nil }
        var parameters: [String: JSONValue] = [:]
        if let command = values["Commandline"] { parameters["commandLine"] = .string(command) }
        var names: [String] = []
        for (field, eventName) in actions {
            guard let list = values[field] else { continue }
            names.append(eventName)
            parameters[field.prefix(1).lowercased() + field.dropFirst()] = .array(packages(list).map(JSONValue.object))
        }
        var userName = "root"
        var uid: Int? = 0
        if let value = values["Requested-By"] { (userName, uid) = requester(value) }
        var error = values["Error"]
        var errorCode = error == nil ? nil : "PackageOperationFailed"
        if values["End-Date"] == nil {
            errorCode = "PackageOperationInterrupted"
            error = error ?? "apt's run has no End-Date: it was interrupted before it finished"
        }
        return (
            HostActivity(
                eventSource: "apt.linux", eventName: names.count == 1 ? names[0] : "ChangePackages", userName: userName, uid: uid,
                errorCode: errorCode, errorMessage: error, requestParameters: parameters),
            start
        )
    }

    /// `Requested-By: alice (1000)` → the name and uid.
    static func requester(_ value: String) -> (name: String, uid: Int?) {
        let parts = value.split(separator: " ")
        return (
            parts.first.map(String.init) ?? value,
            parts.dropFirst().first.flatMap { Int($0.trimming(charactersIn: "()")) }
        )
    }

    /// `nginx:amd64 (1.22.1-9), curl:amd64 (7.88.1-10, 7.88.1-10+deb12u5), libx:amd64 (1.0, automatic)`.
    static func packages(_ list: String) -> [[String: JSONValue]] {
        var result: [[String: JSONValue]] = []
        var rest = Substring(list)
        while let open = rest.firstIndex(of: "(") {
            let name = rest[..<open].trimming(charactersIn: " ,")
            guard let close = rest[open...].firstIndex(of: ")") else { break }
            let inside = rest[rest.index(after: open)..<close].split(separator: ",").map { $0.trimmingWhitespace() }
            var package: [String: JSONValue] = [:]
            if let colon = name.firstIndex(of: ":") {
                package["package"] = .string(String(name[..<colon]))
                package["architecture"] = .string(String(name[name.index(after: colon)...]))
            } else {
                package["package"] = .string(name)
            }
            let versions = inside.filter { $0 != "automatic" }
            if versions.count >= 2 {
                package["fromVersion"] = .string(versions[0])
                package["toVersion"] = .string(versions[1])
            } else if let version = versions.first {
                package["version"] = .string(version)
            }
            if inside.contains("automatic") { package["automatic"] = .bool(true) }
            result.append(package)
            rest = rest[rest.index(after: close)...]
        }
        return result
    }

    /// `2026-11-24  16:30:01` (two spaces) in local time.
    static func parseDate(_ text: String, utcOffsetSeconds: Int) -> Date? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2, let time = TrailTime.parseISO8601("\(words[0])T\(words[1])Z") else { return nil }
        return time.addingTimeInterval(-Double(utcOffsetSeconds))
    }
}
