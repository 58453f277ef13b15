// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// `lock-account` on the host's own tools: `usermod -L` locks the password (a `!` before its
/// hash in /etc/shadow), `pkill -KILL -u` ends the account's sessions and processes, `usermod -U`
/// unlocks at the end unless the password was locked before the response.
struct AccountLock: Sendable {
    var usermod = "/usr/sbin/usermod"
    var pkill = "/usr/bin/pkill"
    var shadow = "/etc/shadow"

    /// The account's uid; `nil` when there is no such local account.
    static func uid(of name: String) -> UInt32? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    /// Whether the account's password is locked now.
    ///
    /// - Throws: When /etc/shadow cannot be read or names no such account: the lock is then not
    ///   made (its end could unlock what an administrator had locked).
    func isLocked(_ name: String) throws(ResponseFailure) -> Bool {
        guard let text = try? String(contentsOfFile: shadow, encoding: .utf8) else {
            throw ResponseFailure(code: "AccountStateUnknown", message: "\(shadow) cannot be read")
        }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count >= 2, fields[0] == name { return fields[1].hasPrefix("!") }
        }
        throw ResponseFailure(code: "AccountStateUnknown", message: "\(shadow) has no entry for the account")
    }

    /// Locks the password, then ends every process of the account (by uid: pkill reads an
    /// all-digit name as a uid); what was killed is counted.
    func lock(_ name: String, uid: UInt32) throws(ResponseFailure) -> [String: JSONValue] {
        try run([usermod, "-L", name], what: "usermod -L")
        // pkill exits 1 when nothing matched: the account had no sessions.
        let killed = try? ChildProgram.run([pkill, "-KILL", "-e", "-u", String(uid)], timeout: .seconds(10))
        let ended = killed.map { $0.output.split(separator: "\n").count } ?? 0
        return ["processesEnded": .integer(Int64(ended))]
    }

    func unlock(_ name: String) throws(ResponseFailure) {
        try run([usermod, "-U", name], what: "usermod -U")
    }

    private func run(_ argv: [String], what: String) throws(ResponseFailure) {
        let result: ChildProgram.Result
        do {
            result = try ChildProgram.run(argv, timeout: .seconds(10))
        } catch {
            throw ResponseFailure(code: "AccountToolUnavailable", message: "cannot run \(argv[0]): \(error)")
        }
        guard result.succeeded else {
            throw ResponseFailure(
                code: "AccountLockFailed",
                message: "\(what) exited \(result.exitCode.map(String.init) ?? "on a signal"): \(result.output.prefix(512))")
        }
    }
}
