// SPDX-License-Identifier: Apache-2.0

/// Who is on the other end of the application socket, as the kernel says (`SO_PEERCRED`).
public struct PeerCredentials: Sendable, Hashable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The account name of ``uid``, when the agent could resolve it.
    public var userName: String?
    /// `/proc/<pid>/exe`, when readable.
    public var executable: String?
    /// `/proc/<pid>/cgroup`, when readable: the systemd unit the process runs in.
    public var controlGroup: ControlGroup?
    /// The process's supplementary groups (`Groups:` of `/proc/<pid>/status`), for event source claims.
    public var supplementaryGroups: [UInt32]

    public init(
        pid: Int32, uid: UInt32, gid: UInt32, userName: String? = nil, executable: String? = nil, controlGroup: ControlGroup? = nil,
        supplementaryGroups: [UInt32] = []
    ) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.userName = userName
        self.executable = executable
        self.controlGroup = controlGroup
        self.supplementaryGroups = supplementaryGroups
    }

    /// The `Groups:` line of `/proc/<pid>/status` text (proc(5)): `Groups:\t4 24 27 1000`.
    public static func supplementaryGroups(procStatus text: String) -> [UInt32] {
        for line in text.split(separator: "\n") where line.hasPrefix("Groups:") {
            return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
        }
        return []
    }
}

/// The host an agent runs on, as records name it.
public struct HostIdentity: Sendable, Hashable {
    /// The host's name; when the agent is not given one, the collector fills in its certificate's CN.
    public var hostname: String?
    /// `/etc/machine-id`: the stable input of every event ID.
    public var machineID: String
    /// `/proc/sys/kernel/random/boot_id`.
    public var bootID: String?

    public init(hostname: String?, machineID: String, bootID: String?) {
        self.hostname = hostname
        self.machineID = machineID
        self.bootID = bootID
    }

    /// `additionalEventData.host` of records from this host.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["machineId": .string(machineID)]
        if let hostname { members["hostname"] = .string(hostname) }
        if let bootID { members["bootId"] = .string(bootID) }
        return .object(members)
    }
}
