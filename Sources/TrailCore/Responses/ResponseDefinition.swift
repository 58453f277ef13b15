// SPDX-License-Identifier: Apache-2.0

/// A response a host is willing to perform, as its own configuration defines it
/// (`/etc/hosttrail/responses.d/NAME.toml`, one a file, named by the file): its kind, its limits
/// and its allow-lists. A collector can only ask for a defined response by name, with arguments
/// (``ResponseRequest``); ``ResponsePolicy`` holds every request to the definition.
///
/// ```toml
/// kind = "block-address"
/// default-duration = "10m"
/// max-duration = "1w"
/// escalate = ["10m", "1h", "1d", "1w"]     # repeat offenders (fail2ban's bantime.increment)
/// allow = ["10.0.0.0/8", "192.0.2.10"]     # never blocked
/// ```
public struct ResponseDefinition: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Drop an address's packets (nftables, in a table of the agent's own) for a duration.
        case blockAddress = "block-address"
        /// Lock a local account's password and end its sessions, for a duration.
        case lockAccount = "lock-account"
        /// Run a program of the host's configuration, the request's JSON on its standard input.
        case command
    }

    public var name: String
    public var kind: Kind
    /// A request without a duration gets this one (seconds).
    public var defaultSeconds: Int64
    /// The longest a request may ask for (seconds); longer ones are refused.
    public var maxSeconds: Int64
    /// `block-address`: the durations of an address's first, second, … block (the last repeats);
    /// empty: the request's.
    public var escalation: [Int64]
    /// `block-address`: never blocked.
    public var allow: [CIDRBlock]
    /// `lock-account`: uid 0 may be locked.
    public var allowRoot: Bool
    /// `lock-account`: accounts below uid 1000 (system accounts) may be locked.
    public var allowSystemAccounts: Bool
    /// `lock-account`: never locked.
    public var protectedAccounts: Set<String>
    /// `command`: the program (an absolute path) and its arguments; no shell.
    public var command: [String]
    /// `command`: run when the duration ends, with the same input.
    public var revert: [String]
    public var timeoutSeconds: Int

    /// Every key a definition file may hold.
    public static let keys: Set<String> = [
        "kind", "default-duration", "max-duration", "escalate", "allow", "allow-root", "allow-system-accounts", "protected-accounts",
        "command", "revert", "timeout",
    ]

    /// Reads the definition `name` from its file's settings.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and the key.
    public init(name: String, settings: ConfigSettings) throws {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({
                $0 < 0x80 && ($0 == 0x2D || $0 == 0x5F || $0 == 0x2E || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & 0xDF))
            })
        else {
            throw ConfigurationError(.invalidValue, reason: "the response name \"\(name)\" is not 1-64 letters, digits, '.', '-' or '_'")
        }
        self.name = name
        guard let kindName = try settings.string("kind") else { throw settings.missing("kind", "block-address, lock-account or command") }
        guard let kind = Kind(rawValue: kindName) else {
            throw settings.invalid("kind", "\"\(kindName)\" is not block-address, lock-account or command")
        }
        self.kind = kind
        func seconds(_ key: String) throws -> Int64? {
            guard let text = try settings.string(key) else { return nil }
            guard let value = TrailTime.parseDuration(text), value >= 1, value <= 366 * 86_400 else {
                throw settings.invalid(key, "\"\(text)\" is not a duration from 1s to a year, such as 10m, 1h or 7d")
            }
            return Int64(value)
        }
        maxSeconds = try seconds("max-duration") ?? 86_400
        defaultSeconds = try seconds("default-duration") ?? min(600, maxSeconds)
        guard defaultSeconds <= maxSeconds else { throw settings.invalid("default-duration", "is longer than max-duration") }
        escalation = []
        for text in try settings.strings("escalate") ?? [] {
            guard let value = TrailTime.parseDuration(text), value >= 1, Int64(value) <= maxSeconds else {
                throw settings.invalid("escalate", "\"\(text)\" is not a duration of at most max-duration")
            }
            escalation.append(Int64(value))
        }
        allow = []
        for text in try settings.strings("allow") ?? [] {
            guard let block = CIDRBlock(addressOrBlock: text) else {
                throw settings.invalid("allow", "\"\(text)\" is not an address or a CIDR block")
            }
            allow.append(block)
        }
        allowRoot = try settings.bool("allow-root") ?? false
        allowSystemAccounts = try settings.bool("allow-system-accounts") ?? false
        protectedAccounts = Set(try settings.strings("protected-accounts") ?? [])
        command = try settings.strings("command") ?? []
        revert = try settings.strings("revert") ?? []
        timeoutSeconds = Int(try seconds("timeout") ?? 30)
        for (key, argv) in [("command", command), ("revert", revert)] where !argv.isEmpty && !(argv[0].hasPrefix("/")) {
            throw settings.invalid(key, "the program is an absolute path (no shell runs it)")
        }
        switch kind {
        case .command where command.isEmpty: throw settings.missing("command", "a command response names its program")
        case .blockAddress, .lockAccount:
            if !command.isEmpty || !revert.isEmpty { throw settings.invalid("command", "belongs to command responses") }
        default: break
        }
        if kind != .blockAddress, !escalation.isEmpty || !allow.isEmpty {
            throw settings.invalid(escalation.isEmpty ? "allow" : "escalate", "belongs to block-address responses")
        }
    }
}
