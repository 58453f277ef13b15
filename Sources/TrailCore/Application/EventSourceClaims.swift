// SPDX-License-Identifier: Apache-2.0

/// Which applications may write which event sources, so that no process on the host can write
/// records in another service's name.
///
/// Written `EVENT_SOURCE=PRINCIPAL[,PRINCIPAL…]`, one claim a string (`--event-source-claim`,
/// repeatable; `event-source-claim = [...]` in TOML), a principal being `uid:1001`, `user:billing`,
/// `gid:1001`, `group:billing` or `unit:billing.service`:
///
/// ```
/// billing.example.com=unit:billing.service,group:billing-admins
/// *.payments.example.com=user:payments
/// ```
///
/// A claimed name (compared without case; `*.` claims every name under a domain) may be written
/// only by a process matching one of its principals: its uid, its primary or a supplementary
/// group, or the systemd unit its cgroup belongs to. Names nobody claimed stay open to every
/// client. User and group names are resolved once, when the configuration is read.
public struct EventSourceClaims: Sendable, Hashable {
    public enum Principal: Sendable, Hashable, CustomStringConvertible {
        case uid(UInt32)
        case gid(UInt32)
        case unit(String)

        public var description: String {
            switch self {
            case .uid(let uid): "uid \(uid)"
            case .gid(let gid): "gid \(gid)"
            case .unit(let unit): "unit \(unit)"
            }
        }

        func matches(_ peer: PeerCredentials) -> Bool {
            switch self {
            case .uid(let uid): peer.uid == uid
            case .gid(let gid): peer.gid == gid || peer.supplementaryGroups.contains(gid)
            case .unit(let unit): peer.controlGroup?.unit == unit
            }
        }
    }

    public struct Claim: Sendable, Hashable {
        /// Lower-cased; `*.example.com` for every name under `example.com`.
        public var eventSource: String
        public var principals: [Principal]

        func covers(_ lowered: String) -> Bool {
            if eventSource.hasPrefix("*.") { return lowered.hasSuffix(eventSource.dropFirst()) }
            return lowered == eventSource
        }
    }

    public private(set) var claims: [Claim]

    public init(claims: [Claim] = []) {
        self.claims = claims
    }

    /// Why a claim string cannot be used.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var claim: String
        public var reason: String
        public var description: String { "event source claim \"\(claim)\": \(reason)" }
    }

    /// Parses claim strings, resolving user and group names with the given lookups.
    public init(
        parsing strings: [String], userID: (String) -> UInt32?, groupID: (String) -> UInt32?
    ) throws(ParseError) {
        var claims: [Claim] = []
        for text in strings {
            func fail(_ reason: String) -> ParseError { ParseError(claim: text, reason: reason) }
            guard let equals = text.firstIndex(of: "=") else {
                throw fail("expected EVENT_SOURCE=PRINCIPAL[,PRINCIPAL], e.g. billing.example.com=unit:billing.service")
            }
            let name = text[..<equals].trimmingSpaces.lowercased()
            let bare = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
            guard ApplicationEvent.isValidEventSource(bare), !bare.hasPrefix(".") else {
                throw fail("\"\(name)\" is not an event source name (letters, digits, '.', '-', '_'; '*.' in front for a whole domain)")
            }
            if ApplicationRecordBuilder.reservedEventSourceSuffixes.contains(where: { bare.hasSuffix($0) || "." + bare == $0 }) {
                throw fail("*.linux and *.hosttrail belong to the agent and cannot be claimed")
            }
            if claims.contains(where: { $0.eventSource == name }) { throw fail("\(name) is claimed twice; list every principal in one claim") }
            var principals: [Principal] = []
            for item in text[text.index(after: equals)...].split(separator: ",") {
                let part = item.trimmingSpaces
                guard let colon = part.firstIndex(of: ":") else { throw fail("\"\(part)\" must be uid:N, user:NAME, gid:N, group:NAME or unit:NAME") }
                let kind = part[..<colon]
                let value = String(part[part.index(after: colon)...])
                guard !value.isEmpty else { throw fail("\"\(part)\" names nothing") }
                switch kind {
                case "uid":
                    guard let uid = UInt32(value) else { throw fail("\(value) is not a uid") }
                    principals.append(.uid(uid))
                case "gid":
                    guard let gid = UInt32(value) else { throw fail("\(value) is not a gid") }
                    principals.append(.gid(gid))
                case "user":
                    guard let uid = userID(value) else { throw fail("there is no user \(value) on this host") }
                    principals.append(.uid(uid))
                case "group":
                    guard let gid = groupID(value) else { throw fail("there is no group \(value) on this host") }
                    principals.append(.gid(gid))
                case "unit":
                    guard value.contains(".") else { throw fail("\(value) is not a unit name (like billing.service)") }
                    principals.append(.unit(value))
                default:
                    throw fail("unknown principal kind \"\(kind)\"; use uid, user, gid, group or unit")
                }
            }
            guard !principals.isEmpty else { throw fail("the claim names no principal") }
            claims.append(Claim(eventSource: name, principals: principals))
        }
        self.claims = claims
    }

    /// The claim that governs `eventSource`: an exact one before the longest matching `*.` one.
    public func claim(for eventSource: String) -> Claim? {
        let lowered = eventSource.lowercased()
        if let exact = claims.first(where: { $0.eventSource == lowered }) { return exact }
        return claims.filter { $0.covers(lowered) }.max { $0.eventSource.count < $1.eventSource.count }
    }

    /// `nil` when `peer` may write `eventSource`; otherwise the error the client gets.
    public func refusal(eventSource: String, peer: PeerCredentials, index: Int) -> EventValidationError? {
        guard let claim = claim(for: eventSource), !claim.principals.contains(where: { $0.matches(peer) }) else { return nil }
        var process = "uid \(peer.uid), gid \(peer.gid)"
        if let unit = peer.controlGroup?.unit { process += ", unit \(unit)" }
        return EventValidationError(
            .eventSourceClaimed,
            "eventSource \(eventSource) is claimed by \(claim.principals.map(\.description).joined(separator: ", ")) (claim \(claim.eventSource)); this process (\(process)) is none of them",
            index: index, field: "eventSource")
    }
}
