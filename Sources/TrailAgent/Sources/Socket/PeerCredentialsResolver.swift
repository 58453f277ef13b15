// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// Completes what `SO_PEERCRED` gives (pid, uid, gid) with the account name and the executable.
enum PeerCredentialsResolver {
    /// The account name of `uid` (getpwuid_r(3)), or `nil` when it has none.
    static func userName(uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }

    /// The numeric id of group `name` (getgrnam_r(3)), or `nil`.
    static func groupID(name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// `/proc/<pid>/exe`; `nil` when the process is gone or not ours to inspect.
    static func executable(pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    /// `/proc/<pid>/cgroup`; `nil` when the process is gone.
    static func controlGroup(pid: Int32) -> ControlGroup? {
        (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)).flatMap(ControlGroup.init(procText:))
    }

    /// The numeric id of user `name` (getpwnam_r(3)), or `nil`.
    static func userID(name: String) -> UInt32? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    /// Supplementary groups from `/proc/<pid>/status`; none when the process is gone.
    static func supplementaryGroups(pid: Int32) -> [UInt32] {
        (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)).map(PeerCredentials.supplementaryGroups(procStatus:)) ?? []
    }

    static func resolve(pid: Int32, uid: UInt32, gid: UInt32) -> PeerCredentials {
        PeerCredentials(
            pid: pid, uid: uid, gid: gid, userName: userName(uid: uid), executable: executable(pid: pid), controlGroup: controlGroup(pid: pid),
            supplementaryGroups: supplementaryGroups(pid: pid))
    }
}
