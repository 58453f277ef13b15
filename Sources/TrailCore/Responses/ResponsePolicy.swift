// SPDX-License-Identifier: Apache-2.0

/// Holds every request to the host's own definitions: an undefined response, a stale request,
/// a missing or malformed argument, a duration past the definition's limit, an allow-listed, own
/// or collector address, root or a system account (unless allowed) are refused, each with a code.
/// So a compromised or misconfigured collector can make a host do only what the host defined.
public struct ResponsePolicy: Sendable {
    public var definitions: [String: ResponseDefinition]
    /// The host's own addresses and the collector's: never blocked, whatever the definition says.
    public var protectedAddresses: [CIDRBlock]

    public init(definitions: [ResponseDefinition], protectedAddresses: [CIDRBlock]) {
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.protectedAddresses = protectedAddresses
    }

    /// The decision on `request` at `now` (seconds since the epoch).
    ///
    /// - Parameters:
    ///   - offences: How many times this target was responded to before (remembered across
    ///     restarts by the caller): the escalation's step.
    ///   - uid: The local account's uid, `nil` when there is no such account (an I/O the caller does).
    public func decide(_ request: ResponseRequest, now: Int64, offences: Int = 0, uid: (String) -> UInt32? = { _ in nil }) -> ResponseDecision {
        guard let definition = definitions[request.response] else {
            return .refuse(code: "UnknownResponse", reason: "this host defines no response \(request.response)")
        }
        guard now <= request.deadline else { return .refuse(code: "RequestExpired", reason: "the request's deadline has passed") }
        if let asked = request.seconds, asked < 1 || asked > definition.maxSeconds {
            return .refuse(code: "DurationOutOfRange", reason: "\(asked) s is outside 1 s to \(definition.maxSeconds) s, the response's limit")
        }
        var seconds = request.seconds ?? definition.defaultSeconds
        let target: ResponseAction.Target
        switch definition.kind {
        case .blockAddress:
            guard let text = request.arguments["address"] else { return .refuse(code: "MissingArgument", reason: "block-address needs an address") }
            guard let bytes = IPAddressBytes.parse(text) else { return .refuse(code: "InvalidArgument", reason: "the address is not an IP address") }
            if protectedAddresses.contains(where: { $0.contains(bytes) }) {
                return .refuse(code: "ProtectedAddress", reason: "the address is this host's or the collector's")
            }
            if definition.allow.contains(where: { $0.contains(bytes) }) {
                return .refuse(code: "AllowListed", reason: "the address is in the response's allow-list")
            }
            if !definition.escalation.isEmpty { seconds = definition.escalation[min(offences, definition.escalation.count - 1)] }
            target = .address(IPAddressBytes.format(bytes))
        case .lockAccount:
            guard let name = request.arguments["account"] else { return .refuse(code: "MissingArgument", reason: "lock-account needs an account") }
            guard Self.isAccountName(name) else { return .refuse(code: "InvalidArgument", reason: "the account name is not a local account's") }
            guard let id = uid(name) else { return .refuse(code: "NoSuchAccount", reason: "there is no local account of that name") }
            if definition.protectedAccounts.contains(name) {
                return .refuse(code: "ProtectedAccount", reason: "the account is protected by the response")
            }
            if id == 0, !definition.allowRoot { return .refuse(code: "ProtectedAccount", reason: "uid 0 is not locked unless allow-root is set") }
            if id != 0, id < 1000, !definition.allowSystemAccounts {
                return .refuse(code: "ProtectedAccount", reason: "system accounts are not locked unless allow-system-accounts is set")
            }
            target = .account(name: name, uid: id)
        case .command:
            // The arguments come from records an attacker can write (an SSH user name): a program
            // gets an address or an account only when it is one, never a protected address, and
            // no argument with control characters (what a script pasting it into a shell line
            // would trip on) or longer than 256 bytes.
            if let text = request.arguments["address"] {
                guard let bytes = IPAddressBytes.parse(text) else {
                    return .refuse(code: "InvalidArgument", reason: "the address is not an IP address")
                }
                if protectedAddresses.contains(where: { $0.contains(bytes) }) {
                    return .refuse(code: "ProtectedAddress", reason: "the address is this host's or the collector's")
                }
            }
            if let name = request.arguments["account"], !Self.isAccountName(name) {
                return .refuse(code: "InvalidArgument", reason: "the account name is not a local account's")
            }
            for (name, value) in request.arguments
            where value.utf8.count > 256 || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return .refuse(code: "InvalidArgument", reason: "argument \(name) is longer than 256 bytes or holds control characters")
            }
            target = .command(argv: definition.command, revert: definition.revert, timeoutSeconds: definition.timeoutSeconds)
        }
        return .perform(ResponseAction(request: request, target: target, seconds: seconds, offence: offences + 1))
    }

    /// A local account's name as useradd takes it: 1-32 of letters, digits, `.`, `_`, `-`, not
    /// starting with `-` (what a program's argument or a path could be mistaken for).
    static func isAccountName(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count) && !name.hasPrefix("-")
            && name.utf8.allSatisfy {
                $0 < 0x80 && ($0 == 0x2E || $0 == 0x5F || $0 == 0x2D || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & 0xDF))
            }
    }
}
