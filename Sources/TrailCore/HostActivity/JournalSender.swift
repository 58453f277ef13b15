// SPDX-License-Identifier: Apache-2.0

/// Who logged a journal entry, from the fields journald writes itself (`_UID`, `_CAP_EFFECTIVE`):
/// unlike `SYSLOG_IDENTIFIER` and `SYSLOG_PID`, the logging process cannot choose them. Any
/// account can log `logger -t sshd "Failed password for root from 10.0.0.9 …"`; only root and
/// set-user-ID programs running with root's powers (sudo, su, passwd) log with capabilities.
public struct JournalSender: Sendable, Hashable {
    /// `_UID`: the real uid (a set-user-ID program's is its caller's). `nil` when the entry has
    /// none: it did not come through journald on this host (a copied or remote journal).
    public var uid: Int?
    /// `_CAP_EFFECTIVE` as a number; `nil` when journald could not read it (the process had
    /// already exited, as `logger` has).
    public var effectiveCapabilities: UInt64?

    public init(uid: Int? = nil, effectiveCapabilities: UInt64? = nil) {
        self.uid = uid
        self.effectiveCapabilities = effectiveCapabilities
    }

    /// Reads the two fields as journald writes them (decimal uid, hexadecimal capabilities).
    public init(uid: String?, effectiveCapabilities: String?) {
        self.uid = uid.flatMap { Int($0) }
        self.effectiveCapabilities = effectiveCapabilities.flatMap { UInt64($0, radix: 16) }
    }

    /// Whether the entry can be read as the privileged program it names: root, a process with
    /// effective capabilities, or an entry journald did not stamp at all.
    public var mayActAsPrivilegedProgram: Bool {
        guard let uid else { return true }
        return uid == 0 || (effectiveCapabilities ?? 0) != 0
    }
}
