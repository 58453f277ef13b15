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
    /// What to do with a record.
    public enum Decision: Sendable {
        /// Write it as it is (every record but the two below).
        case keep
        /// Another record of the same attempt says it all.
        case drop
        /// A session of a known login: write it with ``SessionLink/apply(to:)``.
        case link(SessionLink)
    }

    /// What a login's session records take from the login.
    public struct SessionLink: Sendable {
        var address: String?
        var port: JSONValue?
        var loginEventID: String

        public func apply(to record: inout HostRecord) {
            if let address { record.activity.sourceIPAddress = address }
            if let port { record.activity.requestParameters["port"] = port }
            record.activity.requestParameters["loginEventId"] = .string(loginEventID)
        }
    }

    struct Connection: Sendable {
        var address: String?
        var port: JSONValue?
        var attempted = false
        /// The successful login's event ID.
        var loginEventID: String?
        /// When it was last seen (a count of records), for forgetting the oldest.
        var touched: Int
    }

    private var connections: [Int: Connection] = [:]
    private var clock = 0
    /// Connections remembered at most (those that never end with a line sshd writes, such as one
    /// cut off after too many failures, are forgotten oldest first; logged-in sessions last, so a
    /// flood of attempts does not cut a session's end from its login).
    static let capacity = 4096

    public init() {}

    /// What to do with `record`, the next record of its source; the tracker learns from it.
    /// Decided without copying the record: every record of a source passes here.
    public mutating func fold(_ record: borrowing HostRecord) -> Decision {
        guard record.activity.eventSource == "sshd.linux", let pid = record.process.pid else { return .keep }
        clock += 1
        switch record.activity.eventName {
        case "Login":
            let address = record.activity.sourceIPAddress
            let port = record.activity.requestParameters["port"]
            if record.activity.errorCode != nil, record.activity.requestParameters["phase"] == .string("preauth") {
                // The client left before authenticating: an attempt only if it made none.
                guard let known = connections.removeValue(forKey: pid) else { return .keep }
                // A line sshd cut before the address (a huge name) is the same process's connection.
                let cut = address == AuthLogParser.unknownAddress
                if cut || (known.address == address && known.port == port) { return known.attempted ? .drop : .keep }
                return .keep
            }
            // One lookup and one store a login line (a dictionary's in-place updates hash again each).
            var connection = Connection(address: address, port: port, touched: clock)
            if let known = connections[pid], known.address == address, known.port == port { connection.loginEventID = known.loginEventID }
            connection.attempted = true
            if record.activity.errorCode == nil { connection.loginEventID = record.eventID }
            remember(pid, connection)
            return .keep
        case "SessionStart", "SessionEnd":
            guard let connection = connections[pid], let login = connection.loginEventID else { return .keep }
            if record.activity.eventName == "SessionEnd" { connections[pid] = nil }
            return .link(SessionLink(address: connection.address, port: connection.port, loginEventID: login))
        default:
            return .keep
        }
    }

    private mutating func remember(_ pid: Int, _ connection: Connection) {
        connections[pid] = connection
        guard connections.count > Self.capacity else { return }
        // One record touches one connection, so at most half the capacity were seen in the last
        // half-capacity records: keeping only those (and logins) shrinks the table, with no sort.
        let recent = clock - Self.capacity / 2
        connections = connections.filter { $0.value.touched > recent || $0.value.loginEventID != nil }
        // Thousands of sessions whose end was never read (an agent restart in between): the oldest go.
        if connections.count > Self.capacity * 3 / 4 { connections = connections.filter { $0.value.touched > recent } }
    }
}
