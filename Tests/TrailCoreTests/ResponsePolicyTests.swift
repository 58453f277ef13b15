// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCore

/// Host-side responses: definitions read from their files, and every request held to them, so a
/// collector can ask only for what the host defined, within its limits.
struct ResponsePolicyTests {
    static func definition(_ name: String, _ toml: String) throws -> ResponseDefinition {
        try ResponseDefinition(
            name: name, settings: try ConfigSettings(toml: toml, file: "/etc/hosttrail/responses.d/\(name).toml", knownKeys: ResponseDefinition.keys))
    }

    static func policy() throws -> ResponsePolicy {
        ResponsePolicy(
            definitions: [
                try definition(
                    "block",
                    #"kind = "block-address"\#nmax-duration = "1w"\#nescalate = ["10m", "1h", "1d"]\#nallow = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.10"]"#
                ),
                try definition("lock", #"kind = "lock-account"\#nmax-duration = "1h"\#nprotected-accounts = ["backup"]"#),
                try definition("notify", #"kind = "command"\#ncommand = ["/usr/local/bin/notify", "--urgent"]\#ntimeout = "5s""#),
            ], protectedAddresses: [CIDRBlock(addressOrBlock: "198.51.100.1")!, CIDRBlock(addressOrBlock: "127.0.0.0/8")!])
    }

    static func request(_ response: String, _ arguments: [String: String], seconds: Int64? = nil, deadline: Int64 = 2_000) -> ResponseRequest {
        ResponseRequest(id: "r1", response: response, arguments: arguments, seconds: seconds, deadline: deadline, rule: "ssh-brute-force")
    }

    @Test func addressesAreBlockedForTheirEscalatingDurationUnlessProtected() throws {
        let policy = try Self.policy()
        guard case .perform(let first) = policy.decide(Self.request("block", ["address": "203.0.113.9"]), now: 1_000) else {
            Issue.record("refused")
            return
        }
        #expect(first.target == .address("203.0.113.9") && first.seconds == 600 && first.offence == 1)
        // The third offence and later: the ladder's last step; an IPv6 address in its canonical text.
        guard case .perform(let later) = policy.decide(Self.request("block", ["address": "2001:DB9:0::1"]), now: 1_000, offences: 5) else {
            Issue.record("refused")
            return
        }
        #expect(later.target == .address("2001:db9::1") && later.seconds == 86_400)
        let refusals: [([String: String], String)] = [
            (["address": "10.1.2.3"], "AllowListed"), (["address": "192.0.2.10"], "AllowListed"), (["address": "2001:db8::5"], "AllowListed"),
            (["address": "198.51.100.1"], "ProtectedAddress"), (["address": "127.0.0.53"], "ProtectedAddress"),
            (["address": "203.0.113.9/24"], "InvalidArgument"), (["address": "; rm -rf /"], "InvalidArgument"), ([:], "MissingArgument"),
        ]
        for (arguments, code) in refusals {
            guard case .refuse(let refused, _) = policy.decide(Self.request("block", arguments), now: 1_000) else {
                Issue.record("performed \(arguments)")
                continue
            }
            #expect(refused == code, "\(arguments)")
        }
    }

    @Test func requestsOutsideTheDefinitionsAreRefused() throws {
        let policy = try Self.policy()
        let cases: [(ResponseRequest, Int64, String)] = [
            (Self.request("reboot", [:]), 1_000, "UnknownResponse"),
            (Self.request("block", ["address": "203.0.113.9"]), 2_001, "RequestExpired"),
            (Self.request("block", ["address": "203.0.113.9"], seconds: 8 * 86_400), 1_000, "DurationOutOfRange"),
            (Self.request("lock", ["account": "alice"], seconds: 7200), 1_000, "DurationOutOfRange"),
            (Self.request("lock", ["account": "root"]), 1_000, "ProtectedAccount"),
            (Self.request("lock", ["account": "www-data"]), 1_000, "ProtectedAccount"),
            (Self.request("lock", ["account": "backup"]), 1_000, "ProtectedAccount"),
            (Self.request("lock", ["account": "nobody-here"]), 1_000, "NoSuchAccount"),
            (Self.request("lock", ["account": "-rf"]), 1_000, "InvalidArgument"),
            (Self.request("lock", ["account": "a/../b"]), 1_000, "InvalidArgument"),
        ]
        let uids: [String: UInt32] = ["alice": 1001, "root": 0, "www-data": 33, "backup": 1002]
        for (request, now, code) in cases {
            guard case .refuse(let refused, _) = policy.decide(request, now: now, uid: { uids[$0] }) else {
                Issue.record("performed \(request)")
                continue
            }
            #expect(refused == code, "\(request)")
        }
        guard case .perform(let lock) = policy.decide(Self.request("lock", ["account": "alice"]), now: 1_000, uid: { uids[$0] }) else {
            Issue.record("refused alice")
            return
        }
        #expect(lock.target == .account(name: "alice", uid: 1001) && lock.seconds == 600)
        // A command response runs the host's program, whatever the request's arguments say.
        guard case .perform(let notify) = policy.decide(Self.request("notify", ["program": "/bin/sh"]), now: 1_000) else {
            Issue.record("refused notify")
            return
        }
        #expect(notify.target == .command(argv: ["/usr/local/bin/notify", "--urgent"], revert: [], timeoutSeconds: 5))
    }

    @Test(arguments: [
        (#"kind = "reboot""#, "kind"),
        (#"max-duration = "1h""#, "kind"),
        (#"kind = "block-address"\#nallow = ["not-an-address"]"#, "allow"),
        (#"kind = "block-address"\#nmax-duration = "1h"\#nescalate = ["2h"]"#, "escalate"),
        (#"kind = "block-address"\#ndefault-duration = "2d"\#nmax-duration = "1d""#, "default-duration"),
        (#"kind = "command""#, "command"),
        (#"kind = "command"\#ncommand = ["notify"]"#, "command"),
        (#"kind = "lock-account"\#ncommand = ["/bin/true"]"#, "command"),
        (#"kind = "lock-account"\#nallow = ["10.0.0.0/8"]"#, "allow"),
    ])
    func brokenDefinitionsNameTheirKey(toml: String, key: String) {
        #expect {
            _ = try Self.definition("r", toml)
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    /// A command response's arguments come from records an attacker writes: an address or an
    /// account reaches the program only when it is one, never a protected address, and no
    /// argument carries control characters.
    @Test func aCommandGetsOnlyWellFormedArguments() throws {
        let policy = try Self.policy()
        guard case .perform = policy.decide(Self.request("notify", ["address": "203.0.113.9", "account": "alice", "ticket": "T-1"]), now: 1_000)
        else {
            Issue.record("refused")
            return
        }
        let refusals: [([String: String], String)] = [
            (["address": "203.0.113.9; reboot"], "InvalidArgument"), (["address": "127.0.0.1"], "ProtectedAddress"),
            (["account": "-rf"], "InvalidArgument"), (["account": "a b"], "InvalidArgument"),
            (["note": "line\nbreak"], "InvalidArgument"), (["note": String(repeating: "x", count: 257)], "InvalidArgument"),
        ]
        for (arguments, code) in refusals {
            guard case .refuse(let refused, _) = policy.decide(Self.request("notify", arguments), now: 1_000) else {
                Issue.record("performed \(arguments)")
                continue
            }
            #expect(refused == code, "\(arguments)")
        }
    }
}
