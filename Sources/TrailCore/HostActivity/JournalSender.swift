// SPDX-License-Identifier: Apache-2.0

/// Who logged a journal entry, from the fields journald writes itself (`_UID`, `_CAP_EFFECTIVE`,
/// `_EXE`): unlike `SYSLOG_IDENTIFIER` and `SYSLOG_PID`, the logging process cannot choose them.
/// Any account can log `logger -t sshd "Failed password for root from 10.0.0.9 …"`; only root and
/// set-user-ID-root programs (sudo, su, passwd) speak for a privileged program. Capabilities alone
/// prove nothing: they count within the process's user namespace, and `unshare -Ur logger …`
/// has them all.
public struct JournalSender: Sendable, Hashable {
    /// `_UID`: the real uid (a set-user-ID program's is its caller's). `nil` when the entry has
    /// none: it did not come through journald on this host (a copied or remote journal).
    public var uid: Int?
    /// `_CAP_EFFECTIVE` as a number; `nil` when journald could not read it (the process had
    /// already exited, as `logger` has).
    public var effectiveCapabilities: UInt64?
    /// Whether `_EXE` is a set-user-ID file owned by root on this host (the reader looks, as
    /// TrailCore does no I/O); `nil` when the entry has no `_EXE` (journald could not read it).
    public var executableIsSetUserIDRoot: Bool?

    public init(uid: Int? = nil, effectiveCapabilities: UInt64? = nil, executableIsSetUserIDRoot: Bool? = nil) {
        self.uid = uid
        self.effectiveCapabilities = effectiveCapabilities
        self.executableIsSetUserIDRoot = executableIsSetUserIDRoot
    }

    /// Reads the fields as journald writes them (decimal uid, hexadecimal capabilities).
    public init(uid: String?, effectiveCapabilities: String?, executableIsSetUserIDRoot: Bool? = nil) {
        self.init(
            uid: uid.flatMap { Int($0) }, effectiveCapabilities: effectiveCapabilities.flatMap { UInt64($0, radix: 16) },
            executableIsSetUserIDRoot: executableIsSetUserIDRoot)
    }

    /// Whether the entry can be read as the privileged program it names: root, a set-user-ID-root
    /// program running with its powers, or an entry journald did not stamp at all.
    public var mayActAsPrivilegedProgram: Bool {
        guard let uid else { return true }
        return uid == 0 || ((effectiveCapabilities ?? 0) != 0 && executableIsSetUserIDRoot == true)
    }

    /// A non-root sender journald could not fully read: the process was gone before its
    /// capabilities or its executable were (sudo exits right after `command not allowed`), or it
    /// hides its executable (a user namespace of its own). Neither proven privileged nor not.
    public var privilegesAreUnknown: Bool {
        guard let uid, uid != 0 else { return false }
        guard let effectiveCapabilities else { return true }
        return effectiveCapabilities != 0 && executableIsSetUserIDRoot == nil
    }
}
