// SPDX-License-Identifier: Apache-2.0

/// Makes one SSH attempt one record, and ties a login's sessions to it.
///
/// sshd writes several lines for one attempt from the process that handles the connection: a
/// wrong password gives PAM's failure, `Failed password …` and, when the client gives up,
/// `Connection closed by authenticating user … [preauth]`. The parser keeps only the `Failed` and
/// `Accepted` lines (each one attempt, one `Login` record) and reads a preauth disconnect as an
/// attempt of its own; this tracker drops that disconnect when the same connection (sshd's pid,
/// the client's address and port) already made an attempt, and gives the `SessionStart` and
/// `SessionEnd` of a login (PAM, logged by the same process) the client's address and port and
/// the login's event ID (`requestParameters.loginEventId`).
///
/// State, no I/O: the sources keep one per log file and one for the journal, and feed it every
/// record in order. It lives in memory only: a session that outlives an agent restart ends
/// without the link, and a disconnect read after a restart whose attempt was read before it is
/// recorded as an attempt.
public struct SSHLoginTracker: Sendable {
    struct Connection: Sendable {
        var address: String?
        var port: JSONValue?
        var attempted = false
        /// The successful login's event ID.
        var loginEventID: String?
        /// When it was last seen, for forgetting the oldest.
        var touched: Int
    }

    private var connections: [Int: Connection] = [:]
    private var clock = 0
    /// Connections remembered at most (those that never end with a line sshd writes, such as one
    /// cut off after too many failures, are forgotten oldest first).
    static let capacity = 4096

    public init() {}

    /// Completes `record` (a session's link to its login) and says whether to write it: `false`
    /// when an earlier record of the same attempt says it all. Changed in place: a copy of a
    /// record retains each of its strings, and every record of a source passes here.
    public mutating func fold(_ record: inout HostRecord) -> Bool {
        guard record.activity.eventSource == "sshd.linux", let pid = record.process.pid else { return true }
        clock += 1
        switch record.activity.eventName {
        case "Login":
            let address = record.activity.sourceIPAddress
            let port = record.activity.requestParameters["port"]
            if record.activity.requestParameters["phase"] == .string("preauth") {
                // The client left before authenticating: an attempt only if it made none.
                if let known = connections[pid], known.address == address, known.port == port {
                    connections[pid] = nil
                    if known.attempted { return false }
                }
                return true
            }
            var connection = connections[pid].flatMap { $0.address == address && $0.port == port ? $0 : nil }
                ?? Connection(address: address, port: port, touched: clock)
            connection.attempted = true
            connection.touched = clock
            if record.activity.errorCode == nil { connection.loginEventID = record.eventID }
            remember(pid, connection)
            return true
        case "SessionStart", "SessionEnd":
            guard let connection = connections[pid], let login = connection.loginEventID else { return true }
            if let address = connection.address { record.activity.sourceIPAddress = address }
            if let port = connection.port { record.activity.requestParameters["port"] = port }
            record.activity.requestParameters["loginEventId"] = .string(login)
            if record.activity.eventName == "SessionEnd" { connections[pid] = nil }
            return true
        default:
            return true
        }
    }

    private mutating func remember(_ pid: Int, _ connection: Connection) {
        connections[pid] = connection
        guard connections.count > Self.capacity else { return }
        // Forget the least recently seen quarter at once: amortized, no list kept in order.
        let cutoff = connections.values.map(\.touched).sorted()[Self.capacity / 4]
        connections = connections.filter { $0.value.touched > cutoff }
    }
}
