// SPDX-License-Identifier: Apache-2.0

/// First-seen activity, decided deterministically: a user's first `sudo` on a host, a first login
/// source address for a user, a login at an hour of the week the user was not seen logging in at,
/// and a user's first `eventName` in an `eventSource`, each within the window. Observations go in
/// in time order; findings come out. It speaks only after `minimumHistoryMinutes` of observing, and
/// only about a user seen that long (a new account's every first is not news; an hour of the week,
/// only to a user seen for the whole window); what has not been
/// seen for the window is forgotten, and past `maximumEntries` new observations are counted, not kept.
public struct FirstSeenDetector: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `sudo.linux` run by a user on a host where they had not used it.
        case firstSudo = "FirstSudoOnHost"
        /// A successful SSH login from an address the user had not logged in from.
        case newSourceAddress = "NewLoginSourceAddress"
        /// A successful SSH login at an hour of the week the user had not logged in at.
        case unusualLoginHour = "UnusualLoginHour"
        /// An `eventName` of an `eventSource` the user had not done.
        case firstEventName = "FirstEventName"
    }

    /// What was first seen; the minute it was seen at, and where.
    public struct Finding: Sendable, Hashable {
        public var kind: Kind
        public var user: String
        public var host: String
        /// The address, the hour-of-week slot, or empty.
        public var value: String
        public var eventSource: String
        public var eventName: String
        public var minute: Int64
    }

    struct Entry: Hashable, Sendable {
        var kind: Kind
        var user: String
        /// The host for `firstSudo`, else empty.
        var host: String
        var value: String
    }

    public struct Settings: Sendable, Hashable {
        public var windowDays = 7
        public var minimumHistoryMinutes = 24 * 60
        public var maximumEntries = 100_000
        public init() {}
    }

    public let settings: Settings
    /// When each entry was last seen.
    private var seen: [Entry: Int64] = [:]
    /// When each user was first and last seen, by any observation.
    private var users: [String: (first: Int64, last: Int64)] = [:]
    private var firstMinute: Int64?
    private var lastExpiry: Int64?
    /// Observations not kept because ``Settings/maximumEntries`` were kept already.
    public private(set) var overflow = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var entryCount: Int { seen.count }

    /// The findings one record makes, seen at `minute`.
    ///
    /// - Parameters:
    ///   - user: The acting user: for sudo the invoking one.
    ///   - succeeded: The record has no `errorCode`.
    public mutating func observe(
        eventSource: String, eventName: String, user: String?, host: String, sourceIPAddress: String?, succeeded: Bool, minute: Int64
    ) -> [Finding] {
        guard let user, !user.isEmpty else { return [] }
        expire(at: minute)
        if firstMinute == nil { firstMinute = minute }
        let userSince = users[user]?.first ?? minute
        users[user] = (userSince, minute)
        let speaks =
            minute - firstMinute! >= Int64(settings.minimumHistoryMinutes) && minute - userSince >= Int64(settings.minimumHistoryMinutes)
        // An hour of the week is new only to a user seen for a whole window of them.
        let knowsTheWeek = speaks && minute - userSince >= Int64(settings.windowDays) * 1440
        var entries: [Entry] = [Entry(kind: .firstEventName, user: user, host: "", value: "\(eventSource)\u{0}\(eventName)")]
        if succeeded && eventSource == "sudo.linux" {
            entries.append(Entry(kind: .firstSudo, user: user, host: host, value: ""))
        }
        if succeeded && eventSource == "sshd.linux" && eventName == "Login" {
            if let sourceIPAddress, !sourceIPAddress.isEmpty {
                entries.append(Entry(kind: .newSourceAddress, user: user, host: "", value: sourceIPAddress))
            }
            entries.append(Entry(kind: .unusualLoginHour, user: user, host: "", value: String(MinuteBaseline.slot(of: minute))))
        }
        var findings: [Finding] = []
        for entry in entries {
            if seen[entry] == nil {
                guard seen.count < settings.maximumEntries else {
                    overflow += 1
                    continue
                }
                if entry.kind == .unusualLoginHour ? knowsTheWeek : speaks {
                    let value = entry.kind == .firstEventName ? "" : entry.value
                    findings.append(
                        Finding(
                            kind: entry.kind, user: user, host: host, value: value, eventSource: eventSource, eventName: eventName, minute: minute))
                }
            }
            seen[entry] = minute
        }
        return findings
    }

    /// Forgets what the window no longer holds, once a day of minutes.
    private mutating func expire(at minute: Int64) {
        if let lastExpiry, minute - lastExpiry < 1440 { return }
        lastExpiry = minute
        // A day past the window: the same hour next week is not new.
        let cutoff = minute - Int64(settings.windowDays + 1) * 1440
        seen = seen.filter { $0.value > cutoff }
        users = users.filter { $0.value.last > cutoff }
    }
}
