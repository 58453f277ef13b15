// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

/// Real lines (Debian 12: OpenSSH 9.2, sudo 1.9.13, util-linux su, shadow 4.13, systemd 252)
/// and what each must become.
struct AuthLogParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var identifier: String
        var message: String
        var eventSource: String
        var eventName: String
        var userName: String?
        var invokedBy: String? = nil
        var sourceIP: String? = nil
        var errorCode: String? = nil
        var parameters: [String: JSONValue] = [:]
        /// `responseElements.ConsoleLogin`.
        var outcome: String? = nil
        /// The bytes of the message an unverified account name occupies (hidden with it).
        var hiddenName: String? = nil
        var uid: Int? = nil
        var invokerUID: Int? = nil
        var testDescription: String { "\(identifier): \(message.prefix(60))" }
    }

    static let cases: [Case] = [
        Case(
            identifier: "sshd", message: "Accepted password for probeuser from 127.0.0.1 port 34038 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "probeuser", sourceIP: "127.0.0.1",
            parameters: ["authMethod": "password", "port": 34038], outcome: "Success"),
        Case(
            identifier: "sshd", message: "Accepted publickey for deploy from 10.1.2.3 port 50022 ssh2: ED25519 SHA256:Zm9vYmFy",
            eventSource: "sshd.linux", eventName: "Login", userName: "deploy", sourceIP: "10.1.2.3",
            parameters: ["authMethod": "publickey", "port": 50022, "key": "ED25519 SHA256:Zm9vYmFy"], outcome: "Success"),
        Case(
            identifier: "sshd", message: "Failed password for probeuser from 127.0.0.1 port 56438 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "probeuser", sourceIP: "127.0.0.1", errorCode: "AuthFailure",
            parameters: ["authMethod": "password", "port": 56438], outcome: "Failure"),
        Case(
            identifier: "sshd", message: "Failed password for invalid user nosuchuser from 127.0.0.1 port 56448 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "nosuchuser", sourceIP: "127.0.0.1", errorCode: "InvalidUser",
            parameters: ["authMethod": "password", "port": 56448], outcome: "Failure", hiddenName: "nosuchuser"),
        Case(
            identifier: "sshd", message: "Failed publickey for root from 2001:db8::1 port 40000 ssh2: RSA SHA256:abc",
            eventSource: "sshd.linux", eventName: "Login", userName: "root", sourceIP: "2001:db8::1", errorCode: "AuthFailure",
            parameters: ["authMethod": "publickey", "port": 40000, "key": "RSA SHA256:abc"], outcome: "Failure"),
        Case(
            identifier: "sshd", message: "Failed keyboard-interactive/pam for invalid user admin from 203.0.113.7 port 40022 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "admin", sourceIP: "203.0.113.7", errorCode: "InvalidUser",
            parameters: ["authMethod": "keyboard-interactive/pam", "port": 40022], outcome: "Failure", hiddenName: "admin"),
        // A client that leaves before authenticating made an attempt of its own (SSHLoginTracker
        // drops it when the connection made one already).
        Case(
            identifier: "sshd", message: "Connection closed by authenticating user probeuser 127.0.0.1 port 56438 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "probeuser", sourceIP: "127.0.0.1",
            errorCode: "AuthenticationAbandoned", parameters: ["phase": "preauth", "port": 56438], outcome: "Failure"),
        Case(
            identifier: "sshd", message: "Disconnected from authenticating user root 192.0.2.7 port 22 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "root", sourceIP: "192.0.2.7",
            errorCode: "AuthenticationAbandoned", parameters: ["phase": "preauth", "port": 22], outcome: "Failure"),
        Case(
            identifier: "sshd", message: "Connection closed by invalid user eve 127.0.0.2 port 4000 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "eve", sourceIP: "127.0.0.2", errorCode: "InvalidUser",
            parameters: ["phase": "preauth", "port": 4000], outcome: "Failure", hiddenName: "eve"),
        Case(
            identifier: "sshd", message: "pam_unix(sshd:session): session opened for user probeuser(uid=1000) by (uid=0)",
            eventSource: "sshd.linux", eventName: "SessionStart", userName: "probeuser", parameters: ["pamService": "sshd"], uid: 1000),
        Case(
            identifier: "sshd", message: "pam_unix(sshd:session): session closed for user probeuser",
            eventSource: "sshd.linux", eventName: "SessionEnd", userName: "probeuser", parameters: ["pamService": "sshd"]),
        // The account name is the client's choice and may look like sshd's own ending: the
        // address and port are the ones sshd wrote last.
        Case(
            identifier: "sshd", message: "Failed password for invalid user zz from 127.71.232.66 port 1 from 127.71.232.5 port 42335 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "zz from 127.71.232.66 port 1", sourceIP: "127.71.232.5",
            errorCode: "InvalidUser", parameters: ["authMethod": "password", "port": 42335], outcome: "Failure",
            hiddenName: "zz from 127.71.232.66 port 1"),
        Case(
            identifier: "sshd", message: "Failed password for invalid user zz from 6.6.6.6 port 1 ssh2: RSA x from 127.0.0.5 port 42 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "zz from 6.6.6.6 port 1 ssh2: RSA x", sourceIP: "127.0.0.5",
            errorCode: "InvalidUser", parameters: ["authMethod": "password", "port": 42], outcome: "Failure",
            hiddenName: "zz from 6.6.6.6 port 1 ssh2: RSA x"),
        Case(
            identifier: "sshd", message: "Connection closed by invalid user zz from 127.71.232.66 port 1 127.71.232.5 port 42335 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "zz from 127.71.232.66 port 1", sourceIP: "127.71.232.5",
            errorCode: "InvalidUser", parameters: ["phase": "preauth", "port": 42335], outcome: "Failure",
            hiddenName: "zz from 127.71.232.66 port 1"),
        Case(
            identifier: "sshd", message: "Connection closed by invalid user a 6.6.6.6 port 1 [preauth] 127.0.0.9 port 5 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "a 6.6.6.6 port 1 [preauth]", sourceIP: "127.0.0.9",
            errorCode: "InvalidUser", parameters: ["phase": "preauth", "port": 5], outcome: "Failure", hiddenName: "a 6.6.6.6 port 1 [preauth]"),
        // sshd escapes control bytes in the name (strnvis): a newline is the two characters \n.
        Case(
            identifier: "sshd",
            message: #"Failed password for invalid user x\nFailed password for root from 6.6.6.6 port 1 ssh2 from 127.0.0.8 port 9 ssh2"#,
            eventSource: "sshd.linux", eventName: "Login", userName: #"x\nFailed password for root from 6.6.6.6 port 1 ssh2"#, sourceIP: "127.0.0.8",
            errorCode: "InvalidUser", parameters: ["authMethod": "password", "port": 9], outcome: "Failure",
            hiddenName: #"x\nFailed password for root from 6.6.6.6 port 1 ssh2"#),
        Case(
            identifier: "sshd", message: "Failed password for invalid user  from 10.0.0.1 port 22 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "", sourceIP: "10.0.0.1", errorCode: "InvalidUser",
            parameters: ["authMethod": "password", "port": 22], outcome: "Failure", hiddenName: ""),
        // OpenSSH 9.8 and later: a connection's processes log as sshd-session.
        Case(
            identifier: "sshd-session", message: "Accepted publickey for alice from 198.51.100.2 port 50522 ssh2: ED25519 SHA256:Xk3Zp9",
            eventSource: "sshd.linux", eventName: "Login", userName: "alice", sourceIP: "198.51.100.2",
            parameters: ["authMethod": "publickey", "port": 50522, "key": "ED25519 SHA256:Xk3Zp9"], outcome: "Success"),
        Case(
            identifier: "sshd-session", message: "Failed password for root from 203.0.113.7 port 40022 ssh2",
            eventSource: "sshd.linux", eventName: "Login", userName: "root", sourceIP: "203.0.113.7", errorCode: "AuthFailure",
            parameters: ["authMethod": "password", "port": 40022], outcome: "Failure"),
        Case(
            identifier: "sshd-session", message: "Connection closed by invalid user admin 203.0.113.7 port 51234 [preauth]",
            eventSource: "sshd.linux", eventName: "Login", userName: "admin", sourceIP: "203.0.113.7", errorCode: "InvalidUser",
            parameters: ["phase": "preauth", "port": 51234], outcome: "Failure", hiddenName: "admin"),
        Case(
            identifier: "sshd-session", message: "pam_unix(sshd:session): session opened for user alice(uid=1001) by alice(uid=0)",
            eventSource: "sshd.linux", eventName: "SessionStart", userName: "alice", parameters: ["pamService": "sshd"], uid: 1001),
        // PAM writes the typed name last: a name holding " rhost=…" is a name.
        Case(
            identifier: "login",
            message: "pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=x rhost=6.6.6.6",
            eventSource: "login.linux", eventName: "PamAuthentication", userName: "x rhost=6.6.6.6", errorCode: "AuthFailure",
            parameters: ["pamService": "login", "tty": "/dev/tty1", "logname": "LOGIN"]),
        Case(
            identifier: "sudo",
            message: "pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/1 ruser=alice rhost=  user=alice",
            eventSource: "sudo.linux", eventName: "PamAuthentication", userName: "alice", errorCode: "AuthFailure",
            parameters: ["pamService": "sudo", "tty": "/dev/pts/1", "logname": "alice"]),
        Case(
            identifier: "sudo", message: "probeuser : PWD=/home/probeuser ; USER=root ; COMMAND=/usr/bin/id -u",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "probeuser",
            parameters: ["command": "/usr/bin/id -u", "workingDirectory": "/home/probeuser", "targetUser": "root"]),
        Case(
            identifier: "sudo", message: "   alice : TTY=pts/0 ; PWD=/srv ; USER=postgres ; COMMAND=/usr/bin/psql",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "postgres", invokedBy: "alice",
            parameters: ["command": "/usr/bin/psql", "tty": "pts/0", "workingDirectory": "/srv", "targetUser": "postgres"]),
        Case(
            identifier: "sudo", message: "probeuser : command not allowed ; PWD=/home/probeuser ; USER=root ; COMMAND=/bin/ls /root",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "probeuser", errorCode: "CommandNotAllowed",
            parameters: ["command": "/bin/ls /root", "workingDirectory": "/home/probeuser", "targetUser": "root", "problem": "command not allowed"]),
        Case(
            identifier: "sudo",
            message: "probeuser : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/probeuser ; USER=root ; COMMAND=/bin/ls /root",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "probeuser", errorCode: "AuthFailure",
            parameters: [
                "command": "/bin/ls /root", "tty": "pts/1", "workingDirectory": "/home/probeuser", "targetUser": "root",
                "problem": "3 incorrect password attempts",
            ]),
        Case(
            identifier: "sudo", message: "pam_unix(sudo:session): session opened for user root(uid=0) by probeuser(uid=1000)",
            eventSource: "sudo.linux", eventName: "SessionStart", userName: "root", invokedBy: "probeuser", parameters: ["pamService": "sudo"],
            uid: 0, invokerUID: 1000),
        // A command holding sudo's own separator: it is kept whole (COMMAND is always last).
        Case(
            identifier: "sudo", message: "alice : TTY=pts/2 ; PWD=/srv ; USER=root ; GROUP=adm ; COMMAND=/bin/sh -c echo a ; USER=eve",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "alice",
            parameters: [
                "command": "/bin/sh -c echo a ; USER=eve", "tty": "pts/2", "workingDirectory": "/srv", "targetUser": "root",
                "targetGroup": "adm", "ambiguous": true, "targetUserCandidates": ["root", "eve"],
            ]),
        // sudo writes the working directory as it is: a directory named to add a USER cannot
        // make a root command read as another account's. Either reading names root, and says so.
        Case(
            identifier: "sudo", message: "    root : PWD=/tmp/x ; USER=nobody ; COMMAND=/bin/true ; USER=root ; COMMAND=/bin/sh",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "root",
            parameters: [
                "command": "/bin/true ; USER=root ; COMMAND=/bin/sh", "workingDirectory": "/tmp/x", "targetUser": "root",
                "ambiguous": true, "targetUserCandidates": ["nobody", "root"],
            ]),
        // Nor can unquoted arguments (sudo quotes only those holding a space) hide one.
        Case(
            identifier: "sudo", message: "alice : PWD=/tmp ; USER=root ; COMMAND=/bin/sh -c evil ; USER=nobody ; COMMAND=/bin/true",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "alice",
            parameters: [
                "command": "/bin/sh -c evil ; USER=nobody ; COMMAND=/bin/true", "workingDirectory": "/tmp", "targetUser": "root",
                "ambiguous": true, "targetUserCandidates": ["root", "nobody"],
            ]),
        Case(
            identifier: "sudo", message: #"alice : PWD=/tmp ; USER=postgres ; COMMAND=/bin/echo 'it\'s ; USER=x' tab#011x"#,
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "postgres", invokedBy: "alice",
            parameters: [
                "command": #"/bin/echo 'it\'s ; USER=x' tab#011x"#, "workingDirectory": "/tmp", "targetUser": "postgres",
                "ambiguous": true, "targetUserCandidates": ["postgres", "x' tab#011x"],
            ]),
        // PAM found no login name for sudo's caller: the uid says who (named from the account database).
        Case(
            identifier: "sudo", message: "pam_unix(sudo:session): session opened for user root(uid=0) by (uid=1002)",
            eventSource: "sudo.linux", eventName: "SessionStart", userName: "root", parameters: ["pamService": "sudo"], uid: 0, invokerUID: 1002),
        Case(
            identifier: "sudo", message: "élodie : PWD=/home/élodie ; USER=root ; COMMAND=/usr/bin/tee /tmp/ü",
            eventSource: "sudo.linux", eventName: "RunCommand", userName: "root", invokedBy: "élodie",
            parameters: ["command": "/usr/bin/tee /tmp/ü", "workingDirectory": "/home/élodie", "targetUser": "root"]),
        Case(
            identifier: "su", message: "(to root) probeuser on pts/0",
            eventSource: "su.linux", eventName: "SwitchUser", userName: "root", invokedBy: "probeuser",
            parameters: ["targetUser": "root", "tty": "pts/0"]),
        Case(
            identifier: "su", message: "FAILED SU (to root) probeuser on pts/0",
            eventSource: "su.linux", eventName: "SwitchUser", userName: "root", invokedBy: "probeuser", errorCode: "AuthFailure",
            parameters: ["targetUser": "root", "tty": "pts/0"]),
        Case(
            identifier: "su", message: "pam_unix(su:session): session opened for user root(uid=0) by probeuser(uid=1000)",
            eventSource: "su.linux", eventName: "SessionStart", userName: "root", invokedBy: "probeuser", parameters: ["pamService": "su"],
            uid: 0, invokerUID: 1000),
        Case(
            identifier: "useradd", message: "new user: name=alice, UID=1001, GID=1001, home=/home/alice, shell=/bin/sh, from=/dev/pts/0",
            eventSource: "accounts.linux", eventName: "CreateUser", userName: "root",
            parameters: [
                "userName": "alice", "uid": 1001, "gid": 1001, "home": "/home/alice", "shell": "/bin/sh", "from": "/dev/pts/0", "tool": "useradd",
            ], uid: 0),
        Case(
            identifier: "useradd", message: "new group: name=alice, GID=1001",
            eventSource: "accounts.linux", eventName: "CreateGroup", userName: "root",
            parameters: ["groupName": "alice", "gid": 1001, "tool": "useradd"], uid: 0),
        Case(
            identifier: "groupadd", message: "new group: name=devs, GID=1002",
            eventSource: "accounts.linux", eventName: "CreateGroup", userName: "root",
            parameters: ["groupName": "devs", "gid": 1002, "tool": "groupadd"], uid: 0),
        Case(
            identifier: "userdel", message: "delete user 'alice'",
            eventSource: "accounts.linux", eventName: "DeleteUser", userName: "root", parameters: ["userName": "alice", "tool": "userdel"], uid: 0),
        Case(
            identifier: "userdel", message: "removed group 'alice' owned by 'alice'",
            eventSource: "accounts.linux", eventName: "DeleteGroup", userName: "root", parameters: ["groupName": "alice", "tool": "userdel"], uid: 0),
        Case(
            identifier: "groupdel", message: "group 'devs' removed",
            eventSource: "accounts.linux", eventName: "DeleteGroup", userName: "root", parameters: ["groupName": "devs", "tool": "groupdel"], uid: 0),
        Case(
            identifier: "usermod", message: "change user 'alice' shell from '/bin/sh' to '/bin/bash'",
            eventSource: "accounts.linux", eventName: "UpdateUser", userName: "root",
            parameters: ["userName": "alice", "attribute": "shell", "from": "/bin/sh", "to": "/bin/bash", "tool": "usermod"], uid: 0),
        Case(
            identifier: "usermod", message: "add 'alice' to group 'sudo'",
            eventSource: "accounts.linux", eventName: "AddUserToGroup", userName: "root",
            parameters: ["userName": "alice", "groupName": "sudo", "tool": "usermod"], uid: 0),
        Case(
            identifier: "usermod", message: "lock user 'alice' password",
            eventSource: "accounts.linux", eventName: "UpdateUser", userName: "root",
            parameters: ["userName": "alice", "attribute": "password", "to": "locked", "tool": "usermod"], uid: 0),
        Case(
            identifier: "gpasswd", message: "user alice added by root to group devs",
            eventSource: "accounts.linux", eventName: "AddUserToGroup", userName: "root",
            parameters: ["userName": "alice", "groupName": "devs", "tool": "gpasswd"]),
        Case(
            identifier: "gpasswd", message: "user alice removed by root from group devs",
            eventSource: "accounts.linux", eventName: "RemoveUserFromGroup", userName: "root",
            parameters: ["userName": "alice", "groupName": "devs", "tool": "gpasswd"]),
        Case(
            identifier: "passwd", message: "pam_unix(passwd:chauthtok): password changed for alice",
            eventSource: "accounts.linux", eventName: "ChangePassword", userName: nil, parameters: ["userName": "alice", "tool": "passwd"]),
        // chpasswd is not set-user-ID: root ran it. passwd's actor is its process's account (the journal's _UID).
        Case(
            identifier: "chpasswd", message: "pam_unix(chpasswd:chauthtok): password changed for probeuser",
            eventSource: "accounts.linux", eventName: "ChangePassword", userName: "root", parameters: ["userName": "probeuser", "tool": "chpasswd"],
            uid: 0),
        Case(
            identifier: "chage", message: "changed password expiry for alice",
            eventSource: "accounts.linux", eventName: "UpdatePasswordPolicy", userName: "root", parameters: ["userName": "alice", "tool": "chage"],
            uid: 0),
        Case(
            identifier: "systemd-logind", message: "New session 3 of user probeuser.",
            eventSource: "logind.linux", eventName: "SessionStart", userName: "probeuser", parameters: ["sessionId": "3"]),
        Case(
            identifier: "systemd-logind", message: "Removed session 3.",
            eventSource: "logind.linux", eventName: "SessionEnd", userName: nil, parameters: ["sessionId": "3"]),
        Case(
            identifier: "CRON", message: "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
            eventSource: "cron.linux", eventName: "SessionStart", userName: "root", parameters: ["pamService": "cron"], uid: 0, invokerUID: 0),
        Case(
            identifier: "CRON", message: "(root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })",
            eventSource: "cron.linux", eventName: "RunCommand", userName: "root",
            parameters: ["command": "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"]),
        Case(
            identifier: "login", message: "FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure",
            eventSource: "login.linux", eventName: "Login", userName: "alice", errorCode: "AuthFailure", parameters: ["tty": "/dev/tty1"]),
        Case(
            identifier: "systemd", message: "Started nginx.service - A high performance web server and a reverse proxy server.",
            eventSource: "systemd.linux", eventName: "StartUnit", userName: "root", parameters: ["unit": "nginx.service"], uid: 0),
        Case(
            identifier: "systemd", message: "Stopped cron.service - Regular background program processing daemon.",
            eventSource: "systemd.linux", eventName: "StopUnit", userName: "root", parameters: ["unit": "cron.service"], uid: 0),
        Case(
            identifier: "systemd", message: "app.service: Failed with result 'exit-code'.",
            eventSource: "systemd.linux", eventName: "UnitFailed", userName: "root", errorCode: "UnitFailed", parameters: ["unit": "app.service"],
            uid: 0),
        Case(
            identifier: "systemd", message: "Failed to start app.service - My App.",
            eventSource: "systemd.linux", eventName: "StartUnit", userName: "root", errorCode: "UnitFailed", parameters: ["unit": "app.service"],
            uid: 0),
    ]

    @Test(arguments: cases) func lineBecomesTheRightActivity(_ expected: Case) throws {
        guard case .activity(let activity) = AuthLogParser.parse(identifier: expected.identifier, message: expected.message) else {
            Issue.record("not understood: \(expected.message)")
            return
        }
        #expect(activity.eventSource == expected.eventSource)
        #expect(activity.eventName == expected.eventName)
        #expect(activity.userName == expected.userName)
        #expect(activity.invokedBy == expected.invokedBy)
        #expect(activity.sourceIPAddress == expected.sourceIP)
        #expect(activity.errorCode == expected.errorCode)
        #expect(activity.requestParameters == expected.parameters)
        #expect(activity.responseElements?["ConsoleLogin"]?.stringValue == expected.outcome)
        #expect(activity.uid == expected.uid)
        #expect(activity.invokerUID == expected.invokerUID)
        #expect(activity.userNameIsUnverified == (expected.hiddenName != nil))
        let hidden = activity.unverifiedNameRange.map { String(decoding: Array(expected.message.utf8)[$0], as: UTF8.self) }
        #expect(hidden == expected.hiddenName)
    }

    /// Lines understood and folded into another one's record, and lines that do not end as the
    /// program ends them (no address is guessed from what the client wrote).
    @Test func linesThatAddNothingAreIgnoredAndCutLinesAreUnknown() {
        let ignored: [(String, String)] = [
            // The attempt that follows names the account as invalid, or the disconnect does.
            ("sshd", "Invalid user nosuchuser from 127.0.0.1 port 56448"),
            ("sshd-session", "Invalid user zz from 127.71.232.66 port 1 from 127.71.232.5 port 42335"),
            // sshd's and su's own lines of the same failure are the records.
            ("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1  user=probeuser"),
            ("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1"),
            ("su", "pam_unix(su:auth): authentication failure; logname= uid=1001 euid=0 tty= ruser= rhost=  user=root"),
            ("sshd", "drop connection #0 from [203.0.113.7]:40100 on [192.0.2.1]:22 penalty: failed authentication"),
            ("sshd-session", "Received disconnect from 203.0.113.7 port 51234:11: Bye Bye [preauth]"),
            ("sshd-session", "Disconnected from user alice 198.51.100.2 port 50522"),
            ("sshd-session", "error: maximum authentication attempts exceeded for root from 203.0.113.7 port 40022 ssh2 [preauth]"),
            ("sshd-session", "Disconnecting authenticating user root 203.0.113.7 port 40022: Too many authentication failures [preauth]"),
            ("sshd", "Timeout before authentication for connection from 203.0.113.7 to 192.0.2.1, pid = 4242"),
        ]
        for (identifier, message) in ignored {
            #expect(AuthLogParser.parse(identifier: identifier, message: message) == .ignored, "\(message)")
        }
        #expect(AuthLogParser.parse(identifier: "sshd", message: "Accepted password for root from 10.0.0.1 port 22 ssh2 trailing") == .unknown)
        // sshd's reason for refusing an account is no chatter: an include selector can keep it.
        #expect(
            AuthLogParser.parse(identifier: "sshd", message: "User root from 203.0.113.7 not allowed because not listed in AllowUsers") == .unknown)
        // sshd cut the line (500 bytes) before its ending: the attempt is recorded, from an
        // unknown address, never from one the name holds.
        let longName = String(repeating: #"\\001"#, count: 90)
        let cut: [(String, String, String)] = [
            ("Failed password for invalid user \(longName) from 10.0.0.1 po", "InvalidUser", "\(longName) from 10.0.0.1 po"),
            ("Connection closed by invalid user \(longName) 10.0.0", "InvalidUser", "\(longName) 10.0.0"),
            ("Connection closed by invalid user x [preauth]", "InvalidUser", "x [preauth]"),
            ("Failed password for root from 10.0.0.1 port 99999 ssh2", "AuthFailure", "root from 10.0.0.1 port 99999 ssh2"),
            ("Failed password for root from 10.0.0.<1> port 22 ssh2", "AuthFailure", "root from 10.0.0.<1> port 22 ssh2"),
            // Cut at exactly 500 bytes just after a fake ending the name holds: sshd's form, but not sshd's.
            (
                Self.cutAt500("Failed password for invalid user ", fake: " from 6.6.6.6 port 1 ssh2"), "InvalidUser",
                String(Self.cutAt500("Failed password for invalid user ", fake: " from 6.6.6.6 port 1 ssh2").dropFirst(33))
            ),
            (
                Self.cutAt500("Connection closed by invalid user ", fake: " 6.6.6.6 port 1 [preauth]"), "InvalidUser",
                String(Self.cutAt500("Connection closed by invalid user ", fake: " 6.6.6.6 port 1 [preauth]").dropFirst(34))
            ),
            (
                Self.cutAt500("Connection closed by invalid user ", fake: " 6.6.6.6 port 1"), "InvalidUser",
                String(Self.cutAt500("Connection closed by invalid user ", fake: " 6.6.6.6 port 1").dropFirst(34))
            ),
        ]
        for (message, errorCode, name) in cut {
            guard case .activity(let activity) = AuthLogParser.parse(identifier: "sshd", message: message) else {
                Issue.record("not recorded: \(message)")
                continue
            }
            #expect(activity.eventName == "Login" && activity.errorCode == errorCode, "\(message)")
            #expect(activity.sourceIPAddress == "unknown" && activity.userName == name, "\(message)")
            #expect(activity.requestParameters["lineCut"] == .bool(true))
        }
    }

    /// A 500-byte message, as sshd cuts one, whose escaped name (`\001` four bytes each) ends with `fake`.
    static func cutAt500(_ prefix: String, fake: String) -> String {
        let room = 500 - prefix.utf8.count - fake.utf8.count
        return prefix + String(repeating: "x", count: room % 4) + String(repeating: #"\001"#, count: room / 4) + fake
    }

    @Test func chatterIsIgnoredAndStrangersAreUnknown() {
        #expect(
            AuthLogParser.parse(identifier: "sshd", message: "Received disconnect from 127.0.0.1 port 56438:11: disconnected by user") == .ignored)
        #expect(AuthLogParser.parse(identifier: "sshd", message: "Server listening on 0.0.0.0 port 22.") == .ignored)
        #expect(AuthLogParser.parse(identifier: "groupadd", message: "group added to /etc/gshadow: name=devs") == .ignored)
        #expect(AuthLogParser.parse(identifier: "usermod", message: "add 'alice' to shadow group 'sudo'") == .ignored)
        #expect(AuthLogParser.parse(identifier: "sshd", message: "Something sshd never said") == .unknown)
        #expect(AuthLogParser.parse(identifier: "kernel", message: "Linux version 6.1.0") == .unknown)
        #expect(AuthLogParser.parse(identifier: "sudo", message: "no separator here") == .unknown)
    }

    @Test func malformedBinaryAndHugeMessagesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let identifiers = ["sshd", "sudo", "su", "useradd", "usermod", "gpasswd", "systemd-logind", "CRON", "login", "systemd", "x"]
        let seeds =
            Self.cases.map(\.message) + ["", " ", ":", "(", "'", " : ", "pam_unix(", "pam_unix(x:", "pam_unix(a:b): ", "(to ", "FAILED SU (to "]
        for seed in seeds {
            for identifier in identifiers {
                _ = AuthLogParser.parse(identifier: identifier, message: seed)
                // Every prefix of every real line: truncated lines must not trap either.
                for cut in stride(from: 0, through: seed.count, by: 3) {
                    _ = AuthLogParser.parse(identifier: identifier, message: String(seed.prefix(cut)))
                }
            }
        }
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = String(decoding: bytes, as: UTF8.self)
            for identifier in identifiers { _ = AuthLogParser.parse(identifier: identifier, message: text) }
            _ = SyslogLine.parse(Substring(text), reference: Date(), utcOffsetSeconds: 0)
            _ = DpkgLogParser.parse(Substring(text), utcOffsetSeconds: 0)
        }
        let huge = "probeuser : PWD=/ ; USER=root ; COMMAND=" + String(repeating: "A", count: 1 << 20)
        guard case .activity(let activity) = AuthLogParser.parse(identifier: "sudo", message: huge) else {
            Issue.record("a 1 MB sudo line was not understood")
            return
        }
        #expect(activity.requestParameters["command"]?.stringValue?.utf8.count == 1 << 20)
    }
}

struct SyslogLineTests {
    let reference = TrailTime.parseISO8601("2026-11-24T18:00:00Z")!

    @Test func rfc3339LinesKeepTheirTimeAndParts() throws {
        let line = try #require(
            SyslogLine.parse(
                "2026-11-24T16:30:30.862366+00:00 vm sshd[11218]: Failed password for probeuser from 127.0.0.1 port 56438 ssh2",
                reference: reference, utcOffsetSeconds: 3600))
        #expect(line.hostname == "vm")
        #expect(line.identifier == "sshd")
        #expect(line.pid == 11218)
        #expect(line.message == "Failed password for probeuser from 127.0.0.1 port 56438 ssh2")
        #expect(abs(line.time.timeIntervalSince1970 - TrailTime.parseISO8601("2026-11-24T16:30:30Z")!.timeIntervalSince1970 - 0.862366) < 0.001)
        // The separators are single bytes: a combining mark after one belongs to the next part
        // (a Character-wise step over the space would have eaten it with the space).
        let marked = try #require(
            SyslogLine.parse(
                "2026-11-24T16:30:30Z \u{301}vm sshd[7]:\u{301} x", reference: reference, utcOffsetSeconds: 0))
        #expect(marked.hostname == "\u{301}vm")
        #expect(marked.identifier == "sshd")
        #expect(marked.pid == 7)
        #expect(marked.message == "\u{301} x")
    }

    @Test func traditionalLinesTakeTheHostZoneAndInferTheYear() throws {
        let line = try #require(
            SyslogLine.parse(
                "Nov 24 16:30:53 vm sudo: probeuser : PWD=/ ; USER=root ; COMMAND=/usr/bin/id", reference: reference, utcOffsetSeconds: 3600))
        #expect(line.identifier == "sudo")
        #expect(line.pid == nil)
        #expect(TrailTime.format(line.time) == "2026-11-24T15:30:53Z")
        // Read on 2 January: a line from 31 December belongs to the year before.
        let newYear = TrailTime.parseISO8601("2027-01-02T00:10:00Z")!
        let old = try #require(SyslogLine.parse("Dec 31 23:59:59 vm CRON[5]: (root) CMD (x)", reference: newYear, utcOffsetSeconds: 0))
        #expect(TrailTime.format(old.time) == "2026-12-31T23:59:59Z")
        // A space-padded day.
        let padded = try #require(SyslogLine.parse("Mar  5 01:02:03 vm su: (to root) a on pts/0", reference: reference, utcOffsetSeconds: 0))
        #expect(TrailTime.format(padded.time) == "2026-03-05T01:02:03Z")
    }

    @Test func notSyslogIsNil() {
        for text in [
            "", "hello", "Nov 24 16:30:53", "Foo 24 16:30:53 vm sshd: x", "2026-11-24T16:30:30Z", "2026-11-24T16:30:30Z vm",
            "Nov 24 25:30:53 vm a: b",
            "Növ 24 16:30:53 vm a: b", "nov 24 16:30:53 vm a: b", "Nov 24 16:30:5",
        ] {
            #expect(SyslogLine.parse(Substring(text), reference: reference, utcOffsetSeconds: 0) == nil, "\(text)")
        }
    }
}

struct DpkgLogParserTests {
    @Test func actionsBecomeRecordsAndTheRestIsSkipped() throws {
        let install = try #require(DpkgLogParser.parse("2026-11-24 16:30:30 install curl:amd64 <none> 7.88.1-10+deb12u15", utcOffsetSeconds: 3600))
        #expect(TrailTime.format(install.time) == "2026-11-24T15:30:30Z")
        guard case .activity(let activity) = install.outcome else {
            Issue.record("install not understood")
            return
        }
        #expect(activity.eventSource == "dpkg.linux")
        #expect(activity.eventName == "InstallPackage")
        #expect(activity.requestParameters == ["package": "curl", "architecture": "amd64", "toVersion": "7.88.1-10+deb12u15"])
        let upgrade = try #require(DpkgLogParser.parse("2026-11-24 16:31:00 upgrade libc6:amd64 2.36-9 2.36-9+deb12u1", utcOffsetSeconds: 0))
        guard case .activity(let upgraded) = upgrade.outcome else {
            Issue.record("upgrade not understood")
            return
        }
        #expect(upgraded.eventName == "UpgradePackage")
        #expect(upgraded.requestParameters["fromVersion"] == "2.36-9")
        let remove = try #require(DpkgLogParser.parse("2026-11-24 16:32:00 remove sl:amd64 5.02-1 <none>", utcOffsetSeconds: 0))
        guard case .activity(let removed) = remove.outcome else {
            Issue.record("remove not understood")
            return
        }
        #expect(removed.eventName == "RemovePackage")
        #expect(removed.requestParameters == ["package": "sl", "architecture": "amd64", "fromVersion": "5.02-1"])
        #expect(DpkgLogParser.parse("2026-11-24 16:30:30 status installed curl:amd64 7.88.1-10", utcOffsetSeconds: 0)?.outcome == .ignored)
        #expect(DpkgLogParser.parse("2026-11-24 16:30:30 startup archives unpack", utcOffsetSeconds: 0)?.outcome == .ignored)
        #expect(DpkgLogParser.parse("not a dpkg line", utcOffsetSeconds: 0) == nil)
    }
}

struct HostRecordBuilderTests {
    let builder = HostRecordBuilder(host: HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil))
    let time = TrailTime.parseISO8601("2026-11-24T16:30:30Z")!

    func record(_ identifier: String, _ message: String, offset: Int = 0) throws -> CloudTrailRecord {
        guard case .activity(let activity) = AuthLogParser.parse(identifier: identifier, message: message) else {
            throw RecordFormatError("not understood")
        }
        return builder.record(
            for: activity, time: time, process: (identifier, 42), message: message,
            origin: HostRecordBuilder.Origin(source: "file:/var/log/auth.log", position: "offset=\(offset)"))
    }

    @Test func sudoNamesTheTargetAndTheInvoker() throws {
        let record = try record("sudo", "alice : TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/id")
        #expect(record.userIdentity?.userName == "root")
        #expect(record.userIdentity?.type == "LinuxUser")
        #expect(record.userIdentity?.sessionContext?.sessionIssuer?.userName == "alice")
        #expect(record.sourceIPAddress == "localhost")
        #expect(record.eventTime == "2026-11-24T16:30:30Z")
        #expect(record.additionalEventData?["message"]?.stringValue == "alice : TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/id")
        #expect(record.claimedHostName == "web-1")
    }

    @Test func unknownAccountNamesAreHiddenByDefault() throws {
        let message = "Failed password for invalid user hunter2 from 10.0.0.9 port 4000 ssh2"
        let hidden = try record("sshd", message)
        #expect(hidden.userIdentity?.userName == HostActivity.hiddenUserName)
        #expect(!String(decoding: try hidden.canonicalJSON(), as: UTF8.self).contains("hunter2"))
        #expect(hidden.sourceIPAddress == "10.0.0.9")
        #expect(hidden.errorCode == "InvalidUser")
        // The rest of what sshd wrote stays: only the name is hidden.
        #expect(
            hidden.additionalEventData?["message"]?.stringValue
                == "Failed password for invalid user HIDDEN_DUE_TO_SECURITY_REASONS from 10.0.0.9 port 4000 ssh2")
        #expect(hidden.responseElements == ["ConsoleLogin": "Failure"])
        var shown = builder
        shown.hideUnverifiedUserNames = false
        guard case .activity(let activity) = AuthLogParser.parse(identifier: "sshd", message: message) else {
            Issue.record("not an activity: \(message)")
            return
        }
        let visible = shown.record(
            for: activity, time: time, process: ("sshd", 1), message: message, origin: HostRecordBuilder.Origin(source: "f", position: "0"))
        #expect(visible.userIdentity?.userName == "hunter2")
    }

    /// A name typed at a login prompt reaches the journal raw: what records are looked up and
    /// listed by never holds a control byte (the collector refuses those), so it is written `\ooo`.
    @Test func controlBytesInNamesAreEscaped() throws {
        let message = "pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=ro\u{1B}[2Jot\\"
        let record = try record("login", message)
        #expect(record.userIdentity?.userName == #"ro\033[2Jot\\"#)
        #expect(IdentifierText.escapingControlCharacters("plain\\name") == "plain\\name")
    }

    @Test func aCallerGivenByUIDIsNamedFromTheAccountDatabase() throws {
        var named = builder
        named.accountNames = AccountNames { $0 == 1002 ? "carol" : nil }
        let message = "pam_unix(sudo:session): session opened for user root(uid=0) by (uid=1002)"
        guard case .activity(let activity) = AuthLogParser.parse(identifier: "sudo", message: message) else {
            Issue.record("not understood")
            return
        }
        let origin = HostRecordBuilder.Origin(source: "f", position: "0")
        let record = named.record(for: activity, time: time, process: ("sudo", 7), message: message, origin: origin)
        #expect(record.userIdentity?.userName == "root")
        #expect(record.userIdentity?.principalId == "0")
        #expect(record.userIdentity?.sessionContext?.sessionIssuer?.userName == "carol")
        #expect(record.userIdentity?.sessionContext?.sessionIssuer?.principalId == "1002")
        // A uid no account has stays a uid.
        let unnamed = builder.record(for: activity, time: time, process: ("sudo", 7), message: message, origin: origin)
        #expect(unnamed.userIdentity?.sessionContext?.sessionIssuer?.userName == nil)
        #expect(unnamed.userIdentity?.sessionContext?.sessionIssuer?.principalId == "1002")
    }

    @Test func theEventIDFollowsThePositionOnly() throws {
        let first = try record("sshd", "Accepted password for a from 1.2.3.4 port 1 ssh2", offset: 100)
        let again = try record("sshd", "Accepted password for a from 1.2.3.4 port 1 ssh2", offset: 100)
        let next = try record("sshd", "Accepted password for a from 1.2.3.4 port 1 ssh2", offset: 160)
        #expect(first.eventID == again.eventID)
        #expect(first.eventID != next.eventID)
        #expect(EventID.isWellFormed(first.eventID))
    }

    /// The direct writer the spool gets must say exactly what the record model's canonical JSON
    /// says: every parser's cases, with and without a host name, boot id, pid, hidden names and
    /// origin details (one named `source`, which the origin's own source overrides), and messages
    /// that need escaping.
    @Test func theDirectWriterWritesTheRecordsCanonicalJSON() throws {
        let hosts = [
            HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil),
            HostIdentity(hostname: nil, machineID: "fedcba9876543210fedcba9876543210", bootID: "49ebff6b221f483481f0dc7079918f4d"),
        ]
        let origins = [
            HostRecordBuilder.Origin(source: "file:/var/log/auth.log", position: "offset=1", details: ["path": "/var/log/auth.log", "offset": 1]),
            HostRecordBuilder.Origin(
                source: "journal", position: "s=1;i=2", details: ["cursor": "s=1;i=2", "source": "claimed", "unit": "ssh.service"]),
            HostRecordBuilder.Origin(source: "f", position: "0"),
            // The tailer's form, written in its fixed member order; a path that needs escaping.
            HostRecordBuilder.Origin.fileLine(source: "file:/var/log/auth.log", position: "id;offset=7", path: "/var/log/auth.log", offset: 7),
            HostRecordBuilder.Origin.fileLine(source: "file:/tmp/a\"b\\c.log", position: "id;offset=0", path: "/tmp/a\"b\\c.log", offset: 0),
        ]
        // The tailer's form says what the dictionary form says.
        #expect(
            origins[3]
                == HostRecordBuilder.Origin(
                    source: "file:/var/log/auth.log", position: "id;offset=7", details: ["path": "/var/log/auth.log", "offset": 7]))
        var compared = 0
        for host in hosts {
            for hide in [true, false] {
                // Accounts a line gives only the uid of are named from the table (or stay unnamed).
                let names = host.hostname == nil ? AccountNames.none : AccountNames { [1000: "probeuser", 1002: "carol"][$0] }
                let builder = HostRecordBuilder(host: host, hideUnverifiedUserNames: hide, accountNames: names)
                for (index, testCase) in AuthLogParserTests.cases.enumerated() {
                    guard case .activity(let activity) = AuthLogParser.parse(identifier: testCase.identifier, message: testCase.message) else {
                        Issue.record("not an activity: \(testCase.message)")
                        continue
                    }
                    let message = index % 3 == 0 ? testCase.message + " \"quoted\" \\ tab\t é\u{01}" : testCase.message
                    let process: (identifier: String, pid: Int?) = (testCase.identifier, index % 2 == 0 ? nil : 4242)
                    let origin = origins[index % origins.count]
                    let direct = builder.canonicalJSON(for: activity, time: time, process: process, message: message, origin: origin)
                    let modelled = try builder.record(for: activity, time: time, process: process, message: message, origin: origin).canonicalJSON()
                    #expect(String(decoding: direct, as: UTF8.self) == String(decoding: modelled, as: UTF8.self), "\(testCase)")
                    compared += 1
                }
            }
        }
        #expect(compared == 4 * AuthLogParserTests.cases.count)
    }

    /// A 1 MiB line of control bytes (six bytes each once escaped) in both the message and sudo's
    /// command: the record keeps 32 KiB of each, says it was cut, and fits a spool frame.
    @Test func longLogTextIsCutToFitASpoolFrame() throws {
        let command = "/bin/echo " + String(repeating: "\u{01}", count: 1 << 20) + "é"
        let message = "alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=" + command
        guard case .activity(let activity) = AuthLogParser.parse(identifier: "sudo", message: message) else {
            Issue.record("not an activity")
            return
        }
        let origin = HostRecordBuilder.Origin(source: "file:/var/log/auth.log", position: "offset=0")
        let direct = builder.canonicalJSON(for: activity, time: time, process: ("sudo", nil), message: message, origin: origin)
        let modelled = builder.record(for: activity, time: time, process: ("sudo", nil), message: message, origin: origin)
        #expect(direct == (try modelled.canonicalJSON()))
        #expect(direct.count < SpoolFrame.maxPayload / 4, "\(direct.count) bytes")
        #expect(modelled.additionalEventData?["truncated"] == .bool(true))
        let keptMessage = try #require(modelled.additionalEventData?["message"]?.stringValue)
        #expect(keptMessage.utf8.count <= HostRecordBuilder.maxTextBytes && message.hasPrefix(keptMessage))
        let keptCommand = try #require(modelled.requestParameters?["command"]?.stringValue)
        #expect(keptCommand.utf8.count <= HostRecordBuilder.maxTextBytes && command.hasPrefix(keptCommand))
        // A cut never splits a character, and text that fits is not marked.
        #expect(HostRecordBuilder.cut("aé", maxBytes: 2) == "a")
        #expect(HostRecordBuilder.cut("aé", maxBytes: 3) == nil)
        #expect(try record("sudo", "alice : TTY=pts/0 ; PWD=/srv ; USER=root ; COMMAND=/usr/bin/id").additionalEventData?["truncated"] == nil)
    }

    @Test func serviceEventsNameTheServiceAsTheirSource() throws {
        let record = try record("systemd", "Started cron.service - Regular background program processing daemon.")
        #expect(record.sourceIPAddress == "systemd.linux")
        #expect(record.eventType == "AwsServiceEvent")
    }
}
