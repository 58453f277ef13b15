// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Turns the messages of sshd, sudo, su, PAM, the shadow tools, systemd-logind, cron, login and
/// systemd into ``HostActivity`` values. Pure functions over the syslog identifier and the message
/// text, so journald entries and auth.log lines go through the same code.
///
/// Lines that are understood but carry nothing for the trail (sshd's key exchange chatter, the
/// `/etc/gshadow` echo of `groupadd`) return ``Outcome/ignored``; lines no rule knows return
/// ``Outcome/unknown`` and are dropped or kept as generic records by the event selectors.
public enum AuthLogParser {
    public enum Outcome: Sendable, Hashable {
        case activity(HostActivity)
        case ignored
        case unknown
    }

    /// Every syslog identifier some rule below understands (PAM lines come from these programs too).
    public static let identifiers: [String] = [
        "sshd", "sshd-session", "sshd-auth", "sudo", "su", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd",
        "chpasswd",
        "chage", "chfn", "chsh", "systemd-logind", "CRON", "cron", "login", "systemd", "(systemd)",
    ]

    /// Parses the message `message` logged by `identifier` (the syslog tag, e.g. `sshd`).
    public static func parse(identifier: String, message: String) -> Outcome {
        LogText.with(message) { parse(identifier: identifier, message: $0) }
    }

    /// The same, on the bytes of a message (the tailer parses before it copies anything).
    static func parse(identifier: String, message text: LogText) -> Outcome {
        if text.hasPrefix("pam_") {
            return pam(text)
        }
        switch identifier {
        case "sshd", "sshd-session", "sshd-auth": return sshd(text)
        case "sudo": return sudo(text)
        case "su": return su(text)
        case "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd", "chage", "chfn", "chsh":
            return accounts(tool: identifier, text)
        case "systemd-logind": return logind(text)
        case "CRON", "cron": return cron(text)
        case "login": return login(text)
        case "systemd": return systemd(text)
        default: return .unknown
        }
    }

    /// Parameters starting with `name`, with room for the few more a parser adds: a dictionary
    /// from a one-member literal grows (and rehashes) at the second.
    static func parameters(_ name: String, _ value: JSONValue) -> [String: JSONValue] {
        var parameters = [String: JSONValue](minimumCapacity: 6)
        parameters[name] = value
        return parameters
    }

    // MARK: - sshd

    /// sshd's messages that say nothing for the trail.
    static let sshdChatter: [StaticString] = [
        "Received disconnect from ", "Disconnected from user ", "Connection closed by ", "Disconnected from ", "Connection from ",
        "Server listening on ", "Received signal ", "error: ", "Connection reset by ", "pam_env(", "Timeout before authentication",
        "banner exchange", "Unable to negotiate", "fatal: ", "userauth_", "Postponed ", "Partial ", "maximum authentication attempts",
        "message repeated", "PAM ", "Starting session", "User child is on pid", "Close session", "Changed root directory", "Transferred",
        "syslogin_perform_logout", "drop connection #", "Disconnecting ", "Exiting on signal", "kex_exchange_identification",
        "Bad remote protocol version",
    ]

    /// sshd's lines when a client leaves before it authenticated: what precedes the account name,
    /// and whether sshd knew that account.
    static let sshdPreauthDisconnects: [(prefix: StaticString, invalid: Bool)] = [
        ("Connection closed by authenticating user ", false), ("Disconnected from authenticating user ", false),
        ("Connection closed by invalid user ", true), ("Disconnected from invalid user ", true),
    ]

    /// Where an sshd line names the client: the address and port sshd itself wrote, and where that
    /// part of the line starts.
    struct SSHRemote {
        var address: String
        var port: Int
        /// The offset of the space before `from` or before the address.
        var start: Int
        /// What `auth_log` wrote after `ssh2: ` (the key's type and fingerprint).
        var info: LogText?
    }

    /// How sshd ends the lines that name the client.
    enum SSHRemoteForm {
        /// `… from ADDR port N ssh2`, then nothing or `: INFO` (`auth_log`: Accepted, Failed).
        case fromPortSSH2
        /// `… ADDR port N` at the end, before an optional ` [preauth]` (`sshpkt_fmt_connection_id`).
        case addressPort
    }

    /// sshd writes at most this many bytes of a message (`"%.500s"` in its log.c, after escaping
    /// and after ` [preauth]`). A line that long may have lost sshd's own ending, and the client's
    /// text before it (an unknown account's name) can then end the line exactly as sshd would: no
    /// address is taken from such a line.
    static let sshdMessageLimit = 500

    /// The client's address and port in `text`, read from the end: sshd writes them after the user
    /// name the client chose, and a name may itself hold ` from 10.0.0.1 port 1` (sshd escapes
    /// control bytes in it, not spaces). `nil` when the line does not end as sshd ends it (a name
    /// so long that syslog cut the line).
    static func sshRemote(_ text: LogText, _ form: SSHRemoteForm) -> SSHRemote? {
        switch form {
        case .fromPortSSH2:
            // The last " from " followed by exactly sshd's ending; what follows `ssh2: ` is sshd's too.
            var scope = text
            while let found = scope.lastRange(of: " from ") {
                scope = text.prefix(upTo: found.lowerBound)
                let rest = text.suffix(from: found.upperBound)
                guard let (address, port, end) = addressAndPort(rest) else { continue }
                let after = rest.suffix(from: end)
                guard let tail = after.after(" ssh2") else { continue }
                if tail.isEmpty { return SSHRemote(address: address, port: port, start: found.lowerBound, info: nil) }
                if let info = tail.after(": ") { return SSHRemote(address: address, port: port, start: found.lowerBound, info: info) }
            }
            return nil
        case .addressPort:
            var body = text
            if text.hasSuffix(" [preauth]") { body = text.dropLast(10) } else if text.hasSuffix(" [postauth]") { body = text.dropLast(11) }
            guard let (addressStart, address, port) = addressAndPortAtEnd(body), addressStart >= 1, body[addressStart - 1] == 32 else { return nil }
            return SSHRemote(address: address, port: port, start: addressStart - 1, info: nil)
        }
    }

    /// `ADDR port N` at the start of `text`: the address, the port, and the offset just past it.
    static func addressAndPort(_ text: LogText) -> (String, Int, Int)? {
        guard let space = text.firstIndex(of: 32), space > 0 else { return nil }
        let address = text.prefix(upTo: space)
        guard isAddress(address), let afterPort = text.suffix(from: space).after(" port ") else { return nil }
        let digits = afterPort.digitPrefix
        guard !digits.isEmpty, digits.count <= 5, let port = digits.integer, port <= 65_535 else { return nil }
        return (address.string, port, text.count - afterPort.count + digits.count)
    }

    /// `ADDR port N` ending `text`: where the address starts, the address and the port.
    static func addressAndPortAtEnd(_ text: LogText) -> (Int, String, Int)? {
        guard let portWord = text.lastRange(of: " port ") else { return nil }
        let digits = text.suffix(from: portWord.upperBound)
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ (48...57).contains($0) }), let port = digits.integer, port <= 65_535
        else { return nil }
        let before = text.prefix(upTo: portWord.lowerBound)
        let addressStart = (before.lastIndex(of: 32) ?? -1) + 1
        let address = before.suffix(from: addressStart)
        guard isAddress(address) else { return nil }
        return (addressStart, address.string, port)
    }

    /// What sshd writes for a client: an IPv4 or IPv6 address, or with `UseDNS` a host name.
    static func isAddress(_ text: LogText) -> Bool {
        !text.isEmpty && text.count <= 255
            && text.allSatisfy {
                (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 46 || $0 == 58 || $0 == 45 || $0 == 37
                    || $0 == 95
            }
    }

    static func sshd(_ text: LogText) -> Outcome {
        let accepted = text.hasPrefix("Accepted ")
        if let rest = text.after("Accepted ") ?? text.after("Failed ") {
            // Accepted password for alice from 10.0.0.5 port 52144 ssh2[: RSA SHA256:...]
            // Failed password for [invalid user ]bob from 10.0.0.5 port 4000 ssh2
            guard let method = rest.firstWord, let target = rest.suffix(from: method.count).after(" for ") else { return .unknown }
            let invalid = !accepted && target.hasPrefix("invalid user ")
            guard !invalid || text.count < sshdMessageLimit, let remote = sshRemote(text, .fromPortSSH2) else {
                return accepted
                    ? .unknown : cutAttempt(text, nameStart: text.offset(of: target) + (invalid ? 13 : 0), invalid: invalid, method: method)
            }
            let nameStart = text.offset(of: target) + (invalid ? 13 : 0)
            guard nameStart <= remote.start else { return .unknown }
            let user = text[nameStart..<remote.start]
            let methodName = method.string
            var parameters = Self.parameters("authMethod", .string(methodName))
            parameters["port"] = .integer(Int64(remote.port))
            if let key = remote.info { parameters["key"] = .string(key.string) }
            return .activity(
                HostActivity(
                    eventSource: "sshd.linux", eventName: "Login", userName: user.string, sourceIPAddress: remote.address,
                    errorCode: accepted ? nil : invalid ? "InvalidUser" : "AuthFailure",
                    errorMessage: accepted ? nil : invalid ? "Failed \(methodName) for an account that does not exist" : "Failed \(methodName)",
                    eventType: "AwsConsoleSignIn", requestParameters: parameters, responseElements: consoleLogin(success: accepted),
                    userNameIsUnverified: invalid, unverifiedNameRange: invalid ? nameStart..<remote.start : nil))
        }
        // "Invalid user eve from 127.0.0.2 port 4000": the attempt that follows is the record (its
        // Failed line says the account does not exist), or the disconnect if none follows.
        if text.hasPrefix("Invalid user ") { return .ignored }
        for (prefix, invalid) in sshdPreauthDisconnects {
            // "Connection closed by invalid user eve 127.0.0.2 port 4000 [preauth]": the client left
            // before it authenticated. An attempt of its own when the connection made none
            // (``SSHLoginTracker`` drops it otherwise).
            guard let rest = text.after(prefix) else { continue }
            guard !invalid || text.count < sshdMessageLimit, let remote = sshRemote(text, .addressPort) else {
                return cutAttempt(text, nameStart: text.offset(of: rest), invalid: invalid, method: nil)
            }
            let nameStart = text.offset(of: rest)
            let user = nameStart <= remote.start ? text[nameStart..<remote.start].string : ""
            var parameters = Self.parameters("phase", .string("preauth"))
            parameters["port"] = .integer(Int64(remote.port))
            return .activity(
                HostActivity(
                    eventSource: "sshd.linux", eventName: "Login", userName: user, sourceIPAddress: remote.address,
                    errorCode: invalid ? "InvalidUser" : "AuthenticationAbandoned",
                    errorMessage: invalid
                        ? "The client named an account that does not exist and disconnected before authenticating"
                        : "The client disconnected before authenticating",
                    eventType: "AwsConsoleSignIn", requestParameters: parameters, responseElements: consoleLogin(success: false),
                    userNameIsUnverified: invalid, unverifiedNameRange: invalid && nameStart <= remote.start ? nameStart..<remote.start : nil))
        }
        for prefix in sshdChatter where text.hasPrefix(prefix) { return .ignored }
        return .unknown
    }

    /// The `sourceIPAddress` of an attempt whose line lost sshd's ending.
    static let unknownAddress = "unknown"

    /// An attempt whose line does not end as sshd ends it, or that sshd may have cut
    /// (``sshdMessageLimit``): a name long enough once escaped (a `[preauth]` line is escaped
    /// twice) that sshd cut the line at 500 bytes before the address.
    /// Dropping it would hide the attempt, and guessing would take the address from the name: it
    /// is a failed `Login` from `unknown`, the whole rest of the line taken as the name.
    static func cutAttempt(_ text: LogText, nameStart: Int, invalid: Bool, method: LogText?) -> Outcome {
        var parameters = Self.parameters("lineCut", .bool(true))
        if let method { parameters["authMethod"] = .string(method.string) } else { parameters["phase"] = .string("preauth") }
        let name = text.suffix(from: min(nameStart, text.count))
        return .activity(
            HostActivity(
                eventSource: "sshd.linux", eventName: "Login", userName: name.string, sourceIPAddress: unknownAddress,
                errorCode: invalid ? "InvalidUser" : method == nil ? "AuthenticationAbandoned" : "AuthFailure",
                errorMessage: "sshd cut the line before the client's address", eventType: "AwsConsoleSignIn", requestParameters: parameters,
                responseElements: consoleLogin(success: false), userNameIsUnverified: invalid,
                unverifiedNameRange: invalid ? min(nameStart, text.count)..<text.count : nil))
    }

    /// CloudTrail's sign-in outcome member (made once: every login line carries one).
    static func consoleLogin(success: Bool) -> [String: JSONValue] {
        success ? consoleLoginSuccess : consoleLoginFailure
    }

    static let consoleLoginSuccess: [String: JSONValue] = ["ConsoleLogin": "Success"]
    static let consoleLoginFailure: [String: JSONValue] = ["ConsoleLogin": "Failure"]

    // MARK: - sudo and su

    static func sudo(_ text: LogText) -> Outcome {
        // "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id -u"
        // "alice : command not allowed ; PWD=... ; USER=root ; COMMAND=/bin/ls /root"
        // "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=... ; USER=root ; COMMAND=..."
        guard let separator = text.range(of: " : ") else { return .unknown }
        let invoker = text.prefix(upTo: separator.lowerBound).trimmingSpaces
        guard !invoker.isEmpty, !invoker.contains(byte: 32) else { return .unknown }
        var problem: LogText?
        var tty: LogText?
        var directory: LogText?
        var user: LogText?
        var group: LogText?
        var command: LogText?
        var userKeys = 0
        let fields = text.suffix(from: separator.upperBound)
        var rest = fields
        while true {
            let next = rest.range(of: " ; ")
            let part = next.map { rest.prefix(upTo: $0.lowerBound) } ?? rest
            if let equals = part.firstIndex(of: 61), part.prefix(upTo: equals).allSatisfy({ (65...90).contains($0) || $0 == 95 }) {
                let key = part.prefix(upTo: equals)
                // sudo writes COMMAND last, and a command may itself hold " ; ": it is the rest of the line.
                if key == "COMMAND" {
                    command = rest.suffix(from: equals + 1)
                    break
                }
                let value = part.suffix(from: equals + 1)
                if key == "TTY" {
                    tty = value
                } else if key == "PWD" {
                    directory = value
                } else if key == "USER" {
                    user = value; userKeys += 1
                } else if key == "GROUP" {
                    group = value
                }
            } else if problem == nil {
                problem = part
            }
            guard let next else { break }
            rest = rest.suffix(from: next.upperBound)
        }
        guard let command else { return .unknown }
        var parameters = Self.parameters("command", .string(command.string))
        if let tty { parameters["tty"] = .string(tty.string) }
        if let directory { parameters["workingDirectory"] = .string(directory.string) }
        // sudo writes the working directory as it is and a command's arguments unquoted when they
        // hold no space, so a directory named "x ; USER=nobody ; COMMAND=/bin/true" and the
        // arguments "; USER=root ; COMMAND=/bin/sh" both add a USER that sudo did not write, and
        // the line reads both ways. Such a line is marked, and names root when any reading does:
        // it can raise a false alarm, never hide a root command.
        var target = user?.string ?? "root"
        let candidates = userKeys > 1 || command.contains(" ; USER=") ? sudoTargetCandidates(fields) : []
        if Set(candidates).count > 1 {
            parameters["ambiguous"] = .bool(true)
            parameters["targetUserCandidates"] = .array(candidates.map(JSONValue.string))
            if candidates.contains("root") { target = "root" }
        }
        parameters["targetUser"] = .string(target)
        if let group { parameters["targetGroup"] = .string(group.string) }
        var errorCode: String?
        if let problem {
            parameters["problem"] = .string(problem.string)
            errorCode =
                problem.contains("incorrect password") || problem.contains("authentication failure")
                ? "AuthFailure"
                : problem.contains("not allowed") || problem.contains("not in sudoers") || problem.contains("not in the sudoers")
                    ? "CommandNotAllowed"
                    : "SudoFailure"
        }
        return .activity(
            HostActivity(
                eventSource: "sudo.linux", eventName: "RunCommand", userName: target, invokedBy: invoker.string,
                errorCode: errorCode, errorMessage: problem?.string, requestParameters: parameters))
    }

    /// Every `USER=` value of a sudo line, wherever ` ; USER=` appears in it.
    static func sudoTargetCandidates(_ fields: LogText) -> [String] {
        var candidates: [String] = []
        var rest = fields
        if let first = rest.after("USER=") {
            rest = first; candidates.append((first.range(of: " ; ").map { first.prefix(upTo: $0.lowerBound) } ?? first).string)
        }
        while let found = rest.range(of: " ; USER=") {
            let value = rest.suffix(from: found.upperBound)
            candidates.append((value.range(of: " ; ").map { value.prefix(upTo: $0.lowerBound) } ?? value).string)
            rest = value
        }
        return candidates
    }

    static func su(_ text: LogText) -> Outcome {
        // Debian's util-linux su: "(to root) alice on pts/0", "FAILED SU (to root) alice on pts/0"
        var rest = text
        let afterFailed = rest.after("FAILED SU ")
        let failed = afterFailed != nil
        if let afterFailed { rest = afterFailed }
        guard let open = rest.after("(to "), let close = open.firstIndex(of: 41) else {
            return text.hasPrefix("+ ") || text.hasPrefix("- ") ? suShadow(text) : .unknown
        }
        let target = open.prefix(upTo: close).string
        let words = open.suffix(from: close + 1).trimmingSpaces.split(32)
        guard let invoker = words.first else { return .unknown }
        var parameters = Self.parameters("targetUser", .string(target))
        if words.count >= 3, words[1] == "on" { parameters["tty"] = .string(words[2].string) }
        return .activity(
            HostActivity(
                eventSource: "su.linux", eventName: "SwitchUser", userName: target, invokedBy: invoker.string,
                errorCode: failed ? "AuthFailure" : nil, errorMessage: failed ? "su failed" : nil, requestParameters: parameters))
    }

    /// The shadow-utils su format: "+ pts/0 alice:root" / "- pts/0 alice:root".
    static func suShadow(_ text: LogText) -> Outcome {
        let words = text.split(32)
        guard words.count == 3, let colon = words[2].firstIndex(of: 58) else { return .unknown }
        let invoker = words[2].prefix(upTo: colon).string
        let target = words[2].suffix(from: colon + 1).string
        let failed = words[0] == "-"
        return .activity(
            HostActivity(
                eventSource: "su.linux", eventName: "SwitchUser", userName: target, invokedBy: invoker,
                errorCode: failed ? "AuthFailure" : nil, errorMessage: failed ? "su failed" : nil,
                requestParameters: ["targetUser": .string(target), "tty": .string(words[1].string)]))
    }

    // MARK: - PAM

    static func pam(_ text: LogText) -> Outcome {
        // pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
        // pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice
        // pam_unix(passwd:chauthtok): password changed for alice
        guard let open = text.firstIndex(of: 40), let close = text.firstIndex(of: 41), open < close,
            let colon = text[open..<close].firstIndex(of: 58).map({ open + $0 })
        else { return .ignored }
        let service = text[(open + 1)..<colon].string
        guard text.suffix(from: close).hasPrefix("): ") else { return .ignored }
        let body = text.suffix(from: close + 3)
        let source = Self.pamEventSource[service] ?? "\(service).linux"
        if let rest = body.after("session opened for user ") {
            let (user, uid) = userAndUID(rest.firstWord)
            var invoker: String?
            var invokerUID: Int?
            if let by = rest.afterFirst(" by ") {
                // "by alice(uid=1000)", or "by (uid=1002)" when PAM found no login name: the uid then says who.
                let (name, byUID) = userAndUID(by.firstWord)
                if !name.isEmpty { invoker = name }
                invokerUID = byUID
            }
            let bySSHD = service == "sshd"
            return .activity(
                HostActivity(
                    eventSource: source, eventName: "SessionStart", userName: user, uid: uid, invokedBy: bySSHD ? nil : invoker,
                    eventType: service == "cron" ? "AwsServiceEvent" : "AwsApiCall", requestParameters: ["pamService": .string(service)],
                    invokerUID: bySSHD ? nil : invokerUID))
        }
        if let rest = body.after("session closed for user ") {
            let (user, uid) = userAndUID(rest.firstWord)
            return .activity(
                HostActivity(
                    eventSource: source, eventName: "SessionEnd", userName: user, uid: uid,
                    eventType: service == "cron" ? "AwsServiceEvent" : "AwsApiCall", requestParameters: ["pamService": .string(service)]))
        }
        if let rest = body.after("authentication failure;") {
            // sshd and su write their own line for the same failed attempt, with the address and
            // the user (Failed password …, FAILED SU …): that line is the record.
            if service == "sshd" || service == "su" || service == "su-l" { return .ignored }
            let fields = pamFailureFields(rest)
            let user = fields.user.flatMap { $0.isEmpty ? nil : $0 }
            var parameters = Self.parameters("pamService", .string(service))
            if let tty = fields.tty, !tty.isEmpty { parameters["tty"] = .string(tty) }
            if let logname = fields.logname, !logname.isEmpty { parameters["logname"] = .string(logname) }
            let rhost = fields.rhost.flatMap { $0.isEmpty ? nil : $0 }
            let invoker = fields.ruser.flatMap { $0.isEmpty || $0 == user ? nil : $0 }
            return .activity(
                HostActivity(
                    eventSource: source, eventName: "PamAuthentication", userName: user ?? fields.ruser, invokedBy: invoker,
                    sourceIPAddress: rhost, errorCode: "AuthFailure", errorMessage: "PAM authentication failure",
                    requestParameters: parameters))
        }
        if let rest = body.after("password changed for ") {
            let user = rest.firstWord?.string ?? ""
            // chpasswd writes /etc/shadow and is not set-user-ID: only root runs it. passwd is, and
            // any account may change its own password: whoever ran it is the process's account.
            let byRoot = service == "chpasswd"
            return .activity(
                HostActivity(
                    eventSource: "accounts.linux", eventName: "ChangePassword", userName: byRoot ? "root" : nil, uid: byRoot ? 0 : nil,
                    requestParameters: ["userName": .string(user), "tool": .string(service)], actorIsLoggingProcess: !byRoot))
        }
        return .ignored
    }

    /// pam_unix's `logname=… uid=… euid=… tty=… ruser=… rhost=…  user=…`, in that order. `user` is
    /// what the client typed (sshd, login) and is written last: everything after `  user=` is the
    /// name, so a name holding ` rhost=10.0.0.1` is a name, not an address.
    static func pamFailureFields(_ text: LogText) -> (logname: String?, tty: String?, ruser: String?, rhost: String?, user: String?) {
        var head = text
        var user: String?
        if let marker = text.range(of: "  user=") {
            user = text.suffix(from: marker.upperBound).string
            head = text.prefix(upTo: marker.lowerBound)
        }
        var values: [String: String] = [:]
        for word in head.split(32) {
            guard let equals = word.firstIndex(of: 61) else { continue }
            let key = word.prefix(upTo: equals).string
            if values[key] == nil { values[key] = word.suffix(from: equals + 1).string }
        }
        return (values["logname"], values["tty"], values["ruser"], values["rhost"], user)
    }

    static let pamEventSource = [
        "sshd": "sshd.linux", "sudo": "sudo.linux", "su": "su.linux", "su-l": "su.linux", "cron": "cron.linux", "login": "login.linux",
        "systemd-user": "logind.linux", "passwd": "accounts.linux", "chpasswd": "accounts.linux",
    ]

    /// "alice(uid=1000)" → ("alice", 1000); "(uid=0)" → ("", 0); no word → ("", nil).
    static func userAndUID(_ word: LogText?) -> (String, Int?) {
        guard let word else { return ("", nil) }
        guard let open = word.firstIndex(of: 40) else { return (word.string, nil) }
        let uid = word.suffix(from: open).afterFirst("(uid=").flatMap { $0.digitPrefix.integer }
        return (word.prefix(upTo: open).string, uid)
    }

    // MARK: - Accounts

    static func accounts(tool: String, _ text: LogText) -> Outcome {
        func activity(_ name: String, _ parameters: [String: JSONValue]) -> Outcome {
            var parameters = parameters
            parameters["tool"] = .string(tool)
            // These tools change /etc/passwd, /etc/group or /etc/shadow: only root can run them.
            return .activity(HostActivity(eventSource: "accounts.linux", eventName: name, userName: "root", uid: 0, requestParameters: parameters))
        }
        if let rest = text.after("new user: ") {
            var parameters = commaFields(rest)
            if let name = parameters.removeValue(forKey: "name") { parameters["userName"] = name }
            return activity("CreateUser", parameters)
        }
        if let rest = text.after("new group: ") {
            var parameters = commaFields(rest)
            if let name = parameters.removeValue(forKey: "name") { parameters["groupName"] = name }
            return activity("CreateGroup", parameters)
        }
        if let name = text.after("delete user '")?.quotedPrefix {
            return activity("DeleteUser", ["userName": .string(name)])
        }
        if let name = text.after("removed group '")?.quotedPrefix {
            return activity("DeleteGroup", ["groupName": .string(name)])
        }
        if tool == "groupdel", let name = text.after("group '")?.quotedPrefix, text.hasSuffix("' removed") {
            return activity("DeleteGroup", ["groupName": .string(name)])
        }
        if let rest = text.after("change user '"), let name = rest.quotedPrefix {
            // change user 'alice' shell from '/bin/sh' to '/bin/bash'
            let what = rest.dropFirst(name.utf8.count + 2)
            var parameters = Self.parameters("userName", .string(name))
            if let attribute = what.split(32, maxSplits: 1).first { parameters["attribute"] = .string(attribute.string) }
            let quoted = what.split(39, omittingEmptySubsequences: false)
            if quoted.count >= 4 {
                parameters["from"] = .string(quoted[1].string)
                parameters["to"] = .string(quoted[3].string)
            }
            return activity("UpdateUser", parameters)
        }
        if let rest = text.after("add '"), let name = rest.quotedPrefix {
            // add 'alice' to group 'sudo' / add 'alice' to shadow group 'sudo'
            if rest.contains("to shadow group") { return .ignored }
            let group = rest.afterFirst("to group '")?.quotedPrefix ?? ""
            return activity("AddUserToGroup", ["userName": .string(name), "groupName": .string(group)])
        }
        if let rest = text.after("delete '"), let name = rest.quotedPrefix {
            if rest.contains("from shadow group") { return .ignored }
            let group = rest.afterFirst("from group '")?.quotedPrefix ?? ""
            return activity("RemoveUserFromGroup", ["userName": .string(name), "groupName": .string(group)])
        }
        if let rest = text.after("user "), tool == "gpasswd" {
            // gpasswd: "user alice added by root to group devs" / "user alice removed by root from group devs"
            let words = rest.split(32)
            if words.count >= 6, words[1] == "added" || words[1] == "removed" {
                let name = words[1] == "added" ? "AddUserToGroup" : "RemoveUserFromGroup"
                return .activity(
                    HostActivity(
                        eventSource: "accounts.linux", eventName: name, userName: words[3].string,
                        requestParameters: [
                            "userName": .string(words[0].string), "groupName": .string(words[words.count - 1].string), "tool": .string(tool),
                        ]))
            }
        }
        if let name = text.after("lock user '")?.quotedPrefix {
            return activity("UpdateUser", ["userName": .string(name), "attribute": "password", "to": "locked"])
        }
        if let name = text.after("unlock user '")?.quotedPrefix {
            return activity("UpdateUser", ["userName": .string(name), "attribute": "password", "to": "unlocked"])
        }
        if let rest = text.after("changed password expiry for ") {
            return activity("UpdatePasswordPolicy", ["userName": .string(rest.firstWord?.string ?? "")])
        }
        if let rest = text.after("password for '"), let name = rest.quotedPrefix, rest.contains("changed by '") {
            // passwd: "password for 'alice' changed by 'root'"
            let by = rest.afterFirst("changed by '")?.quotedPrefix
            return .activity(
                HostActivity(
                    eventSource: "accounts.linux", eventName: "ChangePassword", userName: by,
                    requestParameters: ["userName": .string(name), "tool": .string(tool)]))
        }
        if text.hasPrefix("group added to ") || text.hasPrefix("group changed in ") || text.hasPrefix("group name changed in ")
            || text.hasPrefix("delete user ") || text.hasPrefix("removed shadow group")
            || text.contains("removed from /etc/") || text.hasPrefix("default group changed") || text.hasPrefix("members of group")
        {
            return .ignored
        }
        return .unknown
    }

    /// "name=alice, UID=1001, GID=1001, home=/home/alice" → members (numbers as integers).
    static func commaFields(_ text: LogText) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for part in text.components(", ") {
            guard let equals = part.firstIndex(of: 61) else { continue }
            let key = part.prefix(upTo: equals).string
            let value = part.suffix(from: equals + 1)
            let name = ["UID": "uid", "GID": "gid"][key] ?? key
            fields[name] = value.integer.map { .integer(Int64($0)) } ?? .string(value.string)
        }
        return fields
    }

    // MARK: - logind, cron, login, systemd

    static func logind(_ text: LogText) -> Outcome {
        // "New session 3 of user alice." / "Removed session 3."
        if let rest = text.after("New session "), let of = rest.range(of: " of user ") {
            let session = rest.prefix(upTo: of.lowerBound).string
            let user = rest.suffix(from: of.upperBound).trimmingTrailingPeriod.string
            return .activity(
                HostActivity(
                    eventSource: "logind.linux", eventName: "SessionStart", userName: user, requestParameters: ["sessionId": .string(session)]))
        }
        if let rest = text.after("Removed session ") {
            return .activity(
                HostActivity(
                    eventSource: "logind.linux", eventName: "SessionEnd",
                    requestParameters: ["sessionId": .string(rest.trimmingTrailingPeriod.string)]))
        }
        if text.hasPrefix("Session ") || text.hasPrefix("Watching system buttons") || text.hasPrefix("New seat")
            || text.hasPrefix("System is ") || text.hasPrefix("Power key")
        {
            return .ignored
        }
        return .unknown
    }

    static func cron(_ text: LogText) -> Outcome {
        // "(root) CMD (test -x /usr/sbin/anacron || ...)"
        if text.first == 40, let close = text.firstIndex(of: 41), let command = text.suffix(from: close).after(") CMD (") {
            let user = text[1..<close].string
            return .activity(
                HostActivity(
                    eventSource: "cron.linux", eventName: "RunCommand", userName: user, eventType: "AwsServiceEvent",
                    requestParameters: ["command": .string(command.dropLast(command.last == 41 ? 1 : 0).string)]))
        }
        return .ignored
    }

    static func login(_ text: LogText) -> Outcome {
        // "FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure"
        if let rest = text.after("FAILED LOGIN ") {
            let tty = rest.afterFirst("on '")?.quotedPrefix
            let user = rest.afterFirst("FOR '")?.quotedPrefix ?? ""
            var parameters: [String: JSONValue] = [:]
            if let tty { parameters["tty"] = .string(tty) }
            let unknown = user == "UNKNOWN"
            return .activity(
                HostActivity(
                    eventSource: "login.linux", eventName: "Login", userName: user, errorCode: unknown ? "InvalidUser" : "AuthFailure",
                    errorMessage: rest.afterFirst(", ")?.string ?? "Authentication failure", eventType: "AwsConsoleSignIn",
                    requestParameters: parameters, userNameIsUnverified: unknown))
        }
        if let rest = text.after("ROOT LOGIN ") ?? text.after("LOGIN ON ") {
            let tty = rest.afterFirst("on '")?.quotedPrefix ?? rest.firstWord?.string
            var parameters: [String: JSONValue] = [:]
            if let tty { parameters["tty"] = .string(tty) }
            let user = text.hasPrefix("ROOT LOGIN") ? "root" : rest.afterFirst("BY ")?.firstWord?.string
            return .activity(
                HostActivity(
                    eventSource: "login.linux", eventName: "Login", userName: user, eventType: "AwsConsoleSignIn", requestParameters: parameters))
        }
        return .unknown
    }

    static func systemd(_ text: LogText) -> Outcome {
        // systemd 252: "Started nginx.service - A high performance web server.", "Stopped ...",
        // "nginx.service: Failed with result 'exit-code'.", "Failed to start nginx.service - ..."
        func isUnit(_ name: LogText) -> Bool { unitSuffixes.contains(where: { name.hasSuffix($0) }) }
        func unit(_ rest: LogText) -> String? {
            guard let name = rest.firstWord?.trimmingTrailingPeriod, isUnit(name) else { return nil }
            return name.string
        }
        func service(_ name: String, _ unitName: String, error: String? = nil, message: String? = nil) -> Outcome {
            .activity(
                HostActivity(
                    eventSource: "systemd.linux", eventName: name, userName: "root", uid: 0, errorCode: error, errorMessage: message,
                    eventType: "AwsServiceEvent", requestParameters: ["unit": .string(unitName)]))
        }
        if let rest = text.after("Started "), let name = unit(rest) { return service("StartUnit", name) }
        if let rest = text.after("Stopped "), let name = unit(rest) { return service("StopUnit", name) }
        if let rest = text.after("Failed to start "), let name = unit(rest) {
            return service("StartUnit", name, error: "UnitFailed", message: "Failed to start \(name)")
        }
        if let colon = text.range(of: ": Failed with result '") {
            let name = text.prefix(upTo: colon.lowerBound)
            if isUnit(name) {
                let unitName = name.string
                let result = text.suffix(from: colon.upperBound).quotedPrefix ?? "unknown"
                return service("UnitFailed", unitName, error: "UnitFailed", message: "\(unitName) failed with result '\(result)'")
            }
        }
        return .unknown
    }

    static let unitSuffixes: [StaticString] = [
        ".service", ".socket", ".timer", ".mount", ".target", ".path", ".scope", ".slice", ".swap", ".device", ".automount",
    ]
}
