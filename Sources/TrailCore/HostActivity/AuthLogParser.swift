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
        "sshd", "sudo", "su", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd",
        "chage", "chfn", "chsh", "systemd-logind", "CRON", "cron", "login", "systemd", "(systemd)",
    ]

    /// Parses the message `message` logged by `identifier` (the syslog tag, e.g. `sshd`).
    public static func parse(identifier: String, message: String) -> Outcome {
        parse(identifier: identifier, message: Substring(message))
    }

    /// The same, on a slice of a line (the tailer parses before it copies anything).
    static func parse(identifier: String, message text: Substring) -> Outcome {
        if text.hasASCIIPrefix("pam_unix(") || text.hasASCIIPrefix("pam_") {
            return pam(text)
        }
        switch identifier {
        case "sshd": return sshd(text)
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

    static func sshd(_ text: Substring) -> Outcome {
        func remote(_ rest: Substring) -> (address: String?, port: Int?) {
            // "... from 127.0.0.1 port 56438 ssh2" or "... 127.0.0.1 port 56438 [preauth]":
            // the words after the first "from", the one before the first "port" and the one after it.
            var scope = rest
            var finder = ASCIIWords(rest)
            while let word = finder.next() {
                if word.isASCII("from") {
                    scope = rest[word.endIndex...]
                    break
                }
            }
            var words = ASCIIWords(scope)
            var first: Substring?
            var previous: Substring?
            while let word = words.next() {
                if first == nil { first = word }
                if word.isASCII("port") {
                    guard let previous else { return (String(word), nil) }
                    return (String(previous), words.next().flatMap { Int($0) })
                }
                previous = word
            }
            return (first.map(String.init), nil)
        }
        if let rest = text.after("Accepted ") {
            // Accepted password for alice from 10.0.0.5 port 52144 ssh2[: RSA SHA256:...]
            // `method` is the first word: what follows it (no string built per line to compare).
            guard let method = rest.firstWord, let user = rest[method.endIndex...].after(" for ")?.firstWord else { return .unknown }
            let (address, port) = remote(rest)
            var parameters = Self.parameters("authMethod", .string(String(method)))
            if let port { parameters["port"] = .integer(Int64(port)) }
            if let colon = rest.utf8Range(of: ": ") { parameters["key"] = .string(String(rest[colon.upperBound...])) }
            return .activity(HostActivity(
                eventSource: "sshd.linux", eventName: "Login", userName: String(user), sourceIPAddress: address,
                eventType: "AwsConsoleSignIn", requestParameters: parameters))
        }
        if let rest = text.after("Failed ") {
            // Failed password for [invalid user ]bob from 10.0.0.5 port 4000 ssh2
            guard let method = rest.firstWord, var target = rest[method.endIndex...].after(" for ") else { return .unknown }
            let afterInvalid = target.after("invalid user ")
            let invalid = afterInvalid != nil
            if let afterInvalid { target = afterInvalid }
            guard let user = target.firstWord else { return .unknown }
            let (address, port) = remote(target)
            var parameters = Self.parameters("authMethod", .string(String(method)))
            if let port { parameters["port"] = .integer(Int64(port)) }
            return .activity(HostActivity(
                eventSource: "sshd.linux", eventName: "Login", userName: String(user), sourceIPAddress: address,
                errorCode: invalid ? "InvalidUser" : "AuthFailure",
                errorMessage: invalid ? "Failed \(method) for an account that does not exist" : "Failed \(method)",
                eventType: "AwsConsoleSignIn", requestParameters: parameters, userNameIsUnverified: invalid))
        }
        if let rest = text.after("Invalid user ") {
            // Invalid user eve from 127.0.0.2 port 4000  (the name may be empty)
            let user = rest.hasASCIIPrefix("from ") ? "" : String(rest.firstWord ?? "")
            let (address, port) = remote(rest)
            var parameters: [String: JSONValue] = [:]
            if let port { parameters["port"] = .integer(Int64(port)) }
            return .activity(HostActivity(
                eventSource: "sshd.linux", eventName: "Connect", userName: user, sourceIPAddress: address,
                errorCode: "InvalidUser", errorMessage: "The client named an account that does not exist",
                eventType: "AwsConsoleSignIn", requestParameters: parameters, userNameIsUnverified: true))
        }
        for (prefix, phase) in [
            ("Connection closed by authenticating user ", "authenticating"), ("Disconnected from authenticating user ", "authenticating"),
            ("Connection closed by invalid user ", "invalid"), ("Disconnected from invalid user ", "invalid"),
        ] {
            guard let rest = text.after(prefix) else { continue }
            let user = phase == "invalid" && rest.hasASCIIPrefix("port ") ? "" : String(rest.firstWord ?? "")
            let (address, port) = remote(rest.dropFirst(user.count))
            var parameters = Self.parameters("phase", .string("preauth"))
            if let port { parameters["port"] = .integer(Int64(port)) }
            return .activity(HostActivity(
                eventSource: "sshd.linux", eventName: "Disconnect", userName: user, sourceIPAddress: address,
                errorCode: "AuthenticationAbandoned", errorMessage: "The client disconnected before authenticating",
                eventType: "AwsConsoleSignIn", requestParameters: parameters, userNameIsUnverified: phase == "invalid"))
        }
        for prefix in ["Received disconnect from ", "Disconnected from user ", "Connection closed by ", "Disconnected from ",
                       "Connection from ", "Server listening on ", "Received signal ", "error: ", "Connection reset by ",
                       "pam_env(", "Timeout before authentication", "banner exchange", "Unable to negotiate", "fatal: ",
                       "userauth_", "Postponed ", "maximum authentication attempts", "message repeated", "PAM ", "Starting session",
                       "User child is on pid", "Close session", "Changed root directory", "Transferred", "syslogin_perform_logout"] {
            if text.hasASCIIPrefix(prefix) { return .ignored }
        }
        return .unknown
    }

    // MARK: - sudo and su

    static func sudo(_ text: Substring) -> Outcome {
        // "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id -u"
        // "alice : command not allowed ; PWD=... ; USER=root ; COMMAND=/bin/ls /root"
        // "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=... ; USER=root ; COMMAND=..."
        guard let separator = text.utf8Range(of: " : ") else { return .unknown }
        let invoker = text[..<separator.lowerBound].trimmingSpaces
        guard !invoker.isEmpty, !invoker.utf8.contains(32) else { return .unknown }
        var problem: String?
        var tty: Substring?
        var directory: Substring?
        var user: Substring?
        var group: Substring?
        var command: Substring?
        var rest = text[separator.upperBound...]
        while true {
            let next = rest.utf8Range(of: " ; ")
            let part = next.map { rest[..<$0.lowerBound] } ?? rest
            if let equals = part.firstIndex(ofASCII: "="), part[..<equals].utf8.allSatisfy({ (65...90).contains($0) || $0 == 95 }) {
                let key = part[..<equals]
                let valueStart = part.index(after: equals)
                // sudo writes COMMAND last, and a command may itself hold " ; ": it is the rest of the line.
                if key.isASCII("COMMAND") {
                    command = rest[valueStart...]
                    break
                }
                let value = part[valueStart...]
                if key.isASCII("TTY") { tty = value } else if key.isASCII("PWD") { directory = value }
                else if key.isASCII("USER") { user = value } else if key.isASCII("GROUP") { group = value }
            } else if problem == nil {
                problem = String(part)
            }
            guard let next else { break }
            rest = rest[next.upperBound...]
        }
        guard let command else { return .unknown }
        var parameters = Self.parameters("command", .string(String(command)))
        if let tty { parameters["tty"] = .string(String(tty)) }
        if let directory { parameters["workingDirectory"] = .string(String(directory)) }
        let target = user.map(String.init) ?? "root"
        parameters["targetUser"] = .string(target)
        if let group { parameters["targetGroup"] = .string(String(group)) }
        var errorCode: String?
        if let problem {
            parameters["problem"] = .string(problem)
            errorCode = problem.containsText("incorrect password") || problem.containsText("authentication failure") ? "AuthFailure"
                : problem.containsText("not allowed") || problem.containsText("not in sudoers") || problem.containsText("not in the sudoers") ? "CommandNotAllowed"
                : "SudoFailure"
        }
        return .activity(HostActivity(
            eventSource: "sudo.linux", eventName: "RunCommand", userName: target, invokedBy: String(invoker),
            errorCode: errorCode, errorMessage: problem, requestParameters: parameters))
    }

    static func su(_ text: Substring) -> Outcome {
        // Debian's util-linux su: "(to root) alice on pts/0", "FAILED SU (to root) alice on pts/0"
        var rest = text
        let afterFailed = rest.after("FAILED SU ")
        let failed = afterFailed != nil
        if let afterFailed { rest = afterFailed }
        guard let open = rest.after("(to "), let close = open.firstIndex(ofASCII: ")") else {
            return text.hasASCIIPrefix("+ ") || text.hasASCIIPrefix("- ") ? suShadow(text) : .unknown
        }
        let target = String(open[..<close])
        let tail = open[open.index(after: close)...].trimmingSpaces
        let words = tail.split(ascii: " ")
        guard let invoker = words.first else { return .unknown }
        var parameters = Self.parameters("targetUser", .string(target))
        if words.count >= 3, words[1] == "on" { parameters["tty"] = .string(String(words[2])) }
        return .activity(HostActivity(
            eventSource: "su.linux", eventName: "SwitchUser", userName: target, invokedBy: String(invoker),
            errorCode: failed ? "AuthFailure" : nil, errorMessage: failed ? "su failed" : nil, requestParameters: parameters))
    }

    /// The shadow-utils su format: "+ pts/0 alice:root" / "- pts/0 alice:root".
    static func suShadow(_ text: Substring) -> Outcome {
        let words = text.split(ascii: " ")
        guard words.count == 3, let colon = words[2].firstIndex(ofASCII: ":") else { return .unknown }
        let invoker = String(words[2][..<colon])
        let target = String(words[2][words[2].index(after: colon)...])
        let failed = words[0] == "-"
        return .activity(HostActivity(
            eventSource: "su.linux", eventName: "SwitchUser", userName: target, invokedBy: invoker,
            errorCode: failed ? "AuthFailure" : nil, errorMessage: failed ? "su failed" : nil,
            requestParameters: ["targetUser": .string(target), "tty": .string(String(words[1]))]))
    }

    // MARK: - PAM

    static func pam(_ text: Substring) -> Outcome {
        // pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
        // pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice
        // pam_unix(passwd:chauthtok): password changed for alice
        guard let open = text.firstIndex(ofASCII: "("), let close = text.firstIndex(ofASCII: ")"), open < close,
            let colon = text[open..<close].firstIndex(ofASCII: ":")
        else { return .ignored }
        let service = String(text[text.index(after: open)..<colon])
        guard text[close...].hasASCIIPrefix("): ") else { return .ignored }
        let body = text[text.index(close, offsetBy: 3)...]
        let source = Self.pamEventSource[service] ?? "\(service).linux"
        if let rest = body.after("session opened for user ") {
            let (user, uid) = userAndUID(rest.firstWord ?? "")
            var invoker: String?
            if let by = rest.afterFirst(" by ") {
                let (name, _) = userAndUID(by.firstWord ?? "")
                if !name.isEmpty { invoker = name }
            }
            return .activity(HostActivity(
                eventSource: source, eventName: "SessionStart", userName: user, uid: uid, invokedBy: service == "sshd" ? nil : invoker,
                eventType: service == "cron" ? "AwsServiceEvent" : "AwsApiCall", requestParameters: ["pamService": .string(service)]))
        }
        if let rest = body.after("session closed for user ") {
            let (user, uid) = userAndUID(rest.firstWord ?? "")
            return .activity(HostActivity(
                eventSource: source, eventName: "SessionEnd", userName: user, uid: uid,
                eventType: service == "cron" ? "AwsServiceEvent" : "AwsApiCall", requestParameters: ["pamService": .string(service)]))
        }
        if body.hasASCIIPrefix("authentication failure;") {
            var fields: [String: String] = [:]
            for word in (body.after("authentication failure;") ?? body).split(ascii: " ") {
                if let equals = word.firstIndex(ofASCII: "=") { fields[String(word[..<equals])] = String(word[word.index(after: equals)...]) }
            }
            let user = fields["user"].flatMap { $0.isEmpty ? nil : $0 }
            var parameters = Self.parameters("pamService", .string(service))
            if let tty = fields["tty"], !tty.isEmpty { parameters["tty"] = .string(tty) }
            if let logname = fields["logname"], !logname.isEmpty { parameters["logname"] = .string(logname) }
            let rhost = fields["rhost"].flatMap { $0.isEmpty ? nil : $0 }
            let invoker = fields["ruser"].flatMap { $0.isEmpty || $0 == user ? nil : $0 }
            return .activity(HostActivity(
                eventSource: source, eventName: "PamAuthentication", userName: user ?? fields["ruser"], invokedBy: invoker,
                sourceIPAddress: rhost, errorCode: "AuthFailure", errorMessage: "PAM authentication failure",
                requestParameters: parameters))
        }
        if let rest = body.after("password changed for ") {
            let user = String(rest.firstWord ?? "")
            return .activity(HostActivity(
                eventSource: "accounts.linux", eventName: "ChangePassword", requestParameters: ["userName": .string(user), "tool": .string(service)]))
        }
        return .ignored
    }

    static let pamEventSource = [
        "sshd": "sshd.linux", "sudo": "sudo.linux", "su": "su.linux", "su-l": "su.linux", "cron": "cron.linux", "login": "login.linux",
        "systemd-user": "logind.linux", "passwd": "accounts.linux", "chpasswd": "accounts.linux",
    ]

    /// "alice(uid=1000)" → ("alice", 1000); "(uid=0)" → ("", 0).
    static func userAndUID(_ word: Substring) -> (String, Int?) {
        guard let open = word.firstIndex(ofASCII: "(") else { return (String(word), nil) }
        let uid = word[open...].afterFirst("(uid=").flatMap { Int($0.prefix { $0.isNumber }) }
        return (String(word[..<open]), uid)
    }

    // MARK: - Accounts

    static func accounts(tool: String, _ text: Substring) -> Outcome {
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
        if tool == "groupdel", let name = text.after("group '")?.quotedPrefix, text.hasASCIISuffix("' removed") {
            return activity("DeleteGroup", ["groupName": .string(name)])
        }
        if let rest = text.after("change user '"), let name = rest.quotedPrefix {
            // change user 'alice' shell from '/bin/sh' to '/bin/bash'
            let what = rest.dropFirst(name.count + 2)
            var parameters = Self.parameters("userName", .string(name))
            let words = what.split(ascii: " ", maxSplits: 1)
            if let attribute = words.first { parameters["attribute"] = .string(String(attribute)) }
            let quoted = what.split(ascii: "'", omittingEmptySubsequences: false)
            if quoted.count >= 4 {
                parameters["from"] = .string(String(quoted[1]))
                parameters["to"] = .string(String(quoted[3]))
            }
            return activity("UpdateUser", parameters)
        }
        if let rest = text.after("add '"), let name = rest.quotedPrefix {
            // add 'alice' to group 'sudo' / add 'alice' to shadow group 'sudo'
            if rest.containsText("to shadow group") { return .ignored }
            let group = rest.afterFirst("to group '")?.quotedPrefix ?? ""
            return activity("AddUserToGroup", ["userName": .string(name), "groupName": .string(group)])
        }
        if let rest = text.after("delete '"), let name = rest.quotedPrefix {
            if rest.containsText("from shadow group") { return .ignored }
            let group = rest.afterFirst("from group '")?.quotedPrefix ?? ""
            return activity("RemoveUserFromGroup", ["userName": .string(name), "groupName": .string(group)])
        }
        if let rest = text.after("user "), tool == "gpasswd" {
            // gpasswd: "user alice added by root to group devs" / "user alice removed by root from group devs"
            let words = rest.split(ascii: " ")
            if words.count >= 6, words[1] == "added" || words[1] == "removed" {
                let name = words[1] == "added" ? "AddUserToGroup" : "RemoveUserFromGroup"
                return .activity(HostActivity(
                    eventSource: "accounts.linux", eventName: name, userName: String(words[3]),
                    requestParameters: ["userName": .string(String(words[0])), "groupName": .string(String(words.last!)), "tool": .string(tool)]))
            }
        }
        if let name = text.after("lock user '")?.quotedPrefix {
            return activity("UpdateUser", ["userName": .string(name), "attribute": "password", "to": "locked"])
        }
        if let name = text.after("unlock user '")?.quotedPrefix {
            return activity("UpdateUser", ["userName": .string(name), "attribute": "password", "to": "unlocked"])
        }
        if let rest = text.after("changed password expiry for ") {
            return activity("UpdatePasswordPolicy", ["userName": .string(String(rest.firstWord ?? ""))])
        }
        if let rest = text.after("password for '"), let name = rest.quotedPrefix, rest.containsText("changed by '") {
            // passwd: "password for 'alice' changed by 'root'"
            let by = rest.afterFirst("changed by '")?.quotedPrefix
            return .activity(HostActivity(
                eventSource: "accounts.linux", eventName: "ChangePassword", userName: by,
                requestParameters: ["userName": .string(name), "tool": .string(tool)]))
        }
        if text.hasASCIIPrefix("group added to ") || text.hasASCIIPrefix("group changed in ") || text.hasASCIIPrefix("group name changed in ") || text.hasASCIIPrefix("delete user ") || text.hasASCIIPrefix("removed shadow group")
            || text.containsText("removed from /etc/") || text.hasASCIIPrefix("default group changed") || text.hasASCIIPrefix("members of group")
        {
            return .ignored
        }
        return .unknown
    }

    /// "name=alice, UID=1001, GID=1001, home=/home/alice" → members (numbers as integers).
    static func commaFields(_ text: Substring) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for part in text.components(", ") {
            guard let equals = part.firstIndex(ofASCII: "=") else { continue }
            let key = String(part[..<equals])
            let value = part[part.index(after: equals)...]
            let name = ["UID": "uid", "GID": "gid"][key] ?? key
            fields[name] = Int64(value).map(JSONValue.integer) ?? .string(String(value))
        }
        return fields
    }

    // MARK: - logind, cron, login, systemd

    static func logind(_ text: Substring) -> Outcome {
        // "New session 3 of user alice." / "Removed session 3."
        if let rest = text.after("New session "), let of = rest.utf8Range(of: " of user ") {
            let session = String(rest[..<of.lowerBound])
            let user = String(rest[of.upperBound...].trimmingTrailingPeriod)
            return .activity(HostActivity(
                eventSource: "logind.linux", eventName: "SessionStart", userName: user, requestParameters: ["sessionId": .string(session)]))
        }
        if let rest = text.after("Removed session ") {
            return .activity(HostActivity(
                eventSource: "logind.linux", eventName: "SessionEnd", requestParameters: ["sessionId": .string(String(rest.trimmingTrailingPeriod))]))
        }
        if text.hasASCIIPrefix("Session ") || text.hasASCIIPrefix("Watching system buttons") || text.hasASCIIPrefix("New seat")
            || text.hasASCIIPrefix("System is ") || text.hasASCIIPrefix("Power key")
        {
            return .ignored
        }
        return .unknown
    }

    static func cron(_ text: Substring) -> Outcome {
        // "(root) CMD (test -x /usr/sbin/anacron || ...)"
        if text.first == "(", let close = text.firstIndex(ofASCII: ")"), let command = text[close...].after(") CMD (") {
            let user = String(text[text.index(after: text.startIndex)..<close])
            return .activity(HostActivity(
                eventSource: "cron.linux", eventName: "RunCommand", userName: user, eventType: "AwsServiceEvent",
                requestParameters: ["command": .string(String(command.dropLast(command.last == ")" ? 1 : 0)))]))
        }
        return .ignored
    }

    static func login(_ text: Substring) -> Outcome {
        // "FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure"
        if let rest = text.after("FAILED LOGIN ") {
            let tty = rest.afterFirst("on '")?.quotedPrefix
            let user = rest.afterFirst("FOR '")?.quotedPrefix ?? ""
            var parameters: [String: JSONValue] = [:]
            if let tty { parameters["tty"] = .string(tty) }
            let unknown = user == "UNKNOWN"
            return .activity(HostActivity(
                eventSource: "login.linux", eventName: "Login", userName: user, errorCode: unknown ? "InvalidUser" : "AuthFailure",
                errorMessage: String(rest.afterFirst(", ") ?? "Authentication failure"), eventType: "AwsConsoleSignIn",
                requestParameters: parameters, userNameIsUnverified: unknown))
        }
        if let rest = text.after("ROOT LOGIN ") ?? text.after("LOGIN ON ") {
            let tty = rest.afterFirst("on '")?.quotedPrefix ?? rest.firstWord.map(String.init)
            var parameters: [String: JSONValue] = [:]
            if let tty { parameters["tty"] = .string(tty) }
            let user = text.hasASCIIPrefix("ROOT LOGIN") ? "root" : rest.afterFirst("BY ").flatMap(\.firstWord).map(String.init)
            return .activity(HostActivity(
                eventSource: "login.linux", eventName: "Login", userName: user, eventType: "AwsConsoleSignIn", requestParameters: parameters))
        }
        return .unknown
    }

    static func systemd(_ text: Substring) -> Outcome {
        // systemd 252: "Started nginx.service - A high performance web server.", "Stopped ...",
        // "nginx.service: Failed with result 'exit-code'.", "Failed to start nginx.service - ..."
        func unit(_ rest: Substring) -> String? {
            guard let word = rest.firstWord else { return nil }
            let name = word.trimmingTrailingPeriod
            return Self.unitSuffixes.contains(where: { name.hasASCIISuffix($0) }) ? String(name) : nil
        }
        func service(_ name: String, _ unitName: String, error: String? = nil, message: String? = nil) -> Outcome {
            .activity(HostActivity(
                eventSource: "systemd.linux", eventName: name, userName: "root", uid: 0, errorCode: error, errorMessage: message,
                eventType: "AwsServiceEvent", requestParameters: ["unit": .string(unitName)]))
        }
        if let rest = text.after("Started "), let name = unit(rest) { return service("StartUnit", name) }
        if let rest = text.after("Stopped "), let name = unit(rest) { return service("StopUnit", name) }
        if let rest = text.after("Failed to start "), let name = unit(rest) {
            return service("StartUnit", name, error: "UnitFailed", message: "Failed to start \(name)")
        }
        if let colon = text.utf8Range(of: ": Failed with result '") {
            let name = String(text[..<colon.lowerBound])
            let result = text[colon.upperBound...].quotedPrefix ?? "unknown"
            if Self.unitSuffixes.contains(where: { name.hasASCIISuffix($0) }) {
                return service("UnitFailed", name, error: "UnitFailed", message: "\(name) failed with result '\(result)'")
            }
        }
        return .unknown
    }

    static let unitSuffixes = [".service", ".socket", ".timer", ".mount", ".target", ".path", ".scope", ".slice", ".swap", ".device", ".automount"]
}

extension StringProtocol {
    /// `body` over the text's UTF-8 bytes where they lie (always, for the native strings the
    /// tailer and the journal reader make), else over a copy.
    ///
    /// The helpers below search these bytes with `memchr`/`memcmp`: walking `UTF8View` indices one
    /// by one was a tenth of the tail path.
    @inline(__always)
    func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(utf8).withUnsafeBufferPointer(body)
    }

    /// The index `offset` UTF-8 bytes from the start.
    @inline(__always)
    func utf8Index(_ offset: Int) -> Index {
        utf8.index(startIndex, offsetBy: offset)
    }

    /// The first occurrence of `needle`, found on the UTF-8 bytes. Foundation's `range(of:)` goes
    /// through NSString and cost more than everything else the parsers do; HostTrail's needles
    /// are ASCII, so a match always starts and ends on a character boundary.
    func utf8Range(of needle: String) -> Range<Index>? {
        let length = needle.utf8.count
        guard length > 0 else { return startIndex..<startIndex }
        let found: Int? = withUTF8Bytes { text in
            needle.withUTF8Bytes { pattern in Self.byteOffset(of: pattern, in: text) }
        }
        guard let found else { return nil }
        return utf8Index(found)..<utf8Index(found + length)
    }

    /// Where `pattern` (not empty) first starts in `text`, in bytes.
    static func byteOffset(of pattern: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = text.baseAddress, let needle = pattern.baseAddress, text.count >= pattern.count else { return nil }
        let last = text.count - pattern.count  // the latest start a match can have
        var from = 0
        while from <= last, let hit = memchr(base + from, Int32(needle.pointee), last - from + 1) {
            let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, needle, pattern.count) == 0 { return at }
            from = at + 1
        }
        return nil
    }

    func containsText(_ needle: String) -> Bool {
        utf8Range(of: needle) != nil
    }

    /// Whether the text starts with the ASCII `prefix`, compared as bytes (no grapheme breaking;
    /// the parsers' prefixes are ASCII).
    func hasASCIIPrefix(_ prefix: String) -> Bool {
        withUTF8Bytes { text in
            prefix.withUTF8Bytes { prefix in
                guard prefix.count <= text.count else { return false }
                guard let textBase = text.baseAddress, let prefixBase = prefix.baseAddress else { return true }
                return memcmp(textBase, prefixBase, prefix.count) == 0
            }
        }
    }

    /// Whether the text ends with the ASCII `suffix`, compared as bytes.
    func hasASCIISuffix(_ suffix: String) -> Bool {
        utf8.reversed().starts(with: suffix.utf8.reversed())
    }
}

extension Substring {
    /// What follows `prefix` when the text starts with it.
    func after(_ prefix: String) -> Substring? {
        hasASCIIPrefix(prefix) ? self[utf8Index(prefix.utf8.count)...] : nil
    }

    /// What follows the first occurrence of `marker`.
    func afterFirst(_ marker: String) -> Substring? {
        utf8Range(of: marker).map { self[$0.upperBound...] }
    }

    var firstWord: Substring? {
        let end = firstIndex(ofASCII: " ") ?? endIndex
        return end == startIndex ? nil : self[..<end]
    }

    /// The text before the next `'` (the rest of a quoted name whose opening quote was consumed).
    var quotedPrefix: String? {
        guard let quote = firstIndex(ofASCII: "'") else { return nil }
        return String(self[..<quote])
    }

    var trimmingSpaces: Substring {
        var bytes = utf8[...]
        while bytes.first == 32 { bytes = bytes.dropFirst() }
        while bytes.last == 32 { bytes = bytes.dropLast() }
        return self[bytes.startIndex..<bytes.endIndex]
    }

    var trimmingTrailingPeriod: Substring {
        utf8.last == 46 ? self[..<utf8.index(before: endIndex)] : self
    }

    // The parsers' separators are ASCII: searching and splitting on the UTF-8 bytes skips the
    // grapheme breaking that Character-based `firstIndex(of:)` and `split` pay for every character.

    /// The first occurrence of the ASCII `character`.
    func firstIndex(ofASCII character: Unicode.Scalar) -> Index? {
        let offset: Int? = withUTF8Bytes { text in
            guard let base = text.baseAddress, let hit = memchr(base, Int32(character.value), text.count) else { return nil }
            return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
        }
        return offset.map(utf8Index)
    }

    /// The last occurrence of the ASCII `character`.
    func lastIndex(ofASCII character: Unicode.Scalar) -> Index? {
        utf8.lastIndex(of: UInt8(ascii: character))
    }

    /// Whether the text is exactly the ASCII `word`, compared as bytes.
    func isASCII(_ word: StaticString) -> Bool {
        word.withUTF8Buffer { word in
            withUTF8Bytes { text in
                guard text.count == word.count else { return false }
                guard let textBase = text.baseAddress, let wordBase = word.baseAddress else { return true }
                return memcmp(textBase, wordBase, word.count) == 0
            }
        }
    }

    /// `split(separator:)` on an ASCII separator.
    func split(ascii separator: Unicode.Scalar, maxSplits: Int = Int.max, omittingEmptySubsequences: Bool = true) -> [Substring] {
        utf8.split(separator: UInt8(ascii: separator), maxSplits: maxSplits, omittingEmptySubsequences: omittingEmptySubsequences)
            .map { self[$0.startIndex..<$0.endIndex] }
    }

    /// Splits on a multi-character separator.
    func components(_ separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self
        while let range = rest.utf8Range(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}

/// The space-separated words of a text, one at a time (what `split(ascii: " ")` returns, without
/// building the array).
struct ASCIIWords: IteratorProtocol {
    private let text: Substring
    /// Byte offsets into `text`.
    private var position = 0
    private let count: Int

    init(_ text: Substring) {
        self.text = text
        count = text.utf8.count
    }

    mutating func next() -> Substring? {
        let (start, end) = text.withUTF8Bytes { bytes -> (Int, Int) in
            var at = position
            while at < count, bytes[at] == 32 { at += 1 }
            let start = at
            while at < count, bytes[at] != 32 { at += 1 }
            return (start, at)
        }
        position = end
        guard start < end else { return nil }
        return text[text.utf8Index(start)..<text.utf8Index(end)]
    }
}
