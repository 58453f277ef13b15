// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Turns a journald entry into a record, through the same message parsers as auth.log lines, so
/// an activity reads the same whichever source saw it.
public struct JournalEntryConverter: Sendable {
    /// The checkpoint and event-ID source name of the journal.
    public static let source = "journal"

    public var builder: HostRecordBuilder
    /// Replaced by a reload; the line parsers behind it follow.
    public var selectors: EventSelectors {
        didSet { lines.selectors = selectors }
    }
    private var lines: LogLineConverter

    public init(builder: HostRecordBuilder, selectors: EventSelectors = EventSelectors()) {
        self.builder = builder
        self.selectors = selectors
        lines = LogLineConverter(builder: builder, selectors: selectors)
    }

    /// The `SYSLOG_IDENTIFIER` values whose messages a parser understands: the reader pushes them
    /// into `sd_journal_add_match`, so journald skips every other entry without it being read.
    public static let parsedIdentifiers: [String] = AuthLogParser.identifiers

    /// What to record of an entry's message (after the event selectors), or why nothing; the
    /// reader asks before it reads the entry's cursor.
    ///
    /// An entry that reads as a privileged program's (sshd, sudo, a shadow tool, PAM) but was
    /// logged by an unprivileged process is not read as that program's: it becomes an
    /// `UnverifiedLogEntry` record naming the account that logged it. One exception: a refusal of
    /// the logging account itself, from a process journald could not fully read (sudo logs
    /// `command not allowed` and exits at once), is read as the program's: that account could
    /// cause the real one by running the program, so believing it grants nothing.
    public func activity(identifier: String, message: String, unit: String?, sender: JournalSender = JournalSender()) -> (
        HostActivity?, LogLineConverter.Outcome?
    ) {
        let parsed = AuthLogParser.parse(identifier: identifier, message: message)
        // A generic record an `include` selector keeps (nginx as www-data) claims no program's words.
        let claimsAProgram = if case .activity = parsed { true } else { false }
        let (selected, outcome) = lines.selected(parsed, identifier: identifier, unit: unit)
        guard var activity = selected else { return (nil, outcome) }
        if claimsAProgram, !sender.mayActAsPrivilegedProgram, let uid = sender.uid, !refusesOnlyItsSender(activity, sender: sender) {
            if identifier == "systemd" && activity.eventSource == "systemd.linux" {
                // A user's own service manager (systemd --user): that account started its own unit.
                activity.userName = nil
                activity.uid = uid
            } else {
                return (Self.unverified(activity, identifier: identifier, uid: uid), nil)
            }
        }
        if activity.actorIsLoggingProcess, activity.userName == nil, let uid = sender.uid { activity.uid = uid }
        return (activity, nil)
    }

    /// Whether `activity` refuses the account that logged it, and journald could not read whether
    /// that process had privileges (``JournalSender/privilegesAreUnknown``).
    func refusesOnlyItsSender(_ activity: HostActivity, sender: JournalSender) -> Bool {
        guard sender.privilegesAreUnknown, activity.errorCode != nil, let uid = sender.uid else { return false }
        if let invoker = activity.invokedBy { return builder.accountNames.name(of: uid) == invoker }
        return activity.invokerUID == uid
    }

    /// The record of an entry an unprivileged process logged under a privileged program's name.
    static func unverified(_ claimed: HostActivity, identifier: String, uid: Int) -> HostActivity {
        HostActivity(
            eventSource: AgentRecordBuilder.eventSource, eventName: "UnverifiedLogEntry", uid: uid, errorCode: "UnverifiedSender",
            errorMessage:
                "an unprivileged process (uid \(uid)) logged an entry that reads as \(claimed.eventSource) \(claimed.eventName); it is not recorded as one",
            requestParameters: [
                "identifier": .string(identifier), "claimedEventSource": .string(claimed.eventSource), "claimedEventName": .string(claimed.eventName),
            ])
    }

    /// The record of `activity`, found in `entry`.
    public func record(for activity: HostActivity, entry: JournalEntry) -> HostRecord {
        var details: [String: JSONValue] = ["cursor": .string(entry.cursor)]
        if let unit = entry.unit { details["unit"] = .string(unit) }
        if let bootID = entry.bootID { details["bootId"] = .string(bootID) }
        if let transport = entry.transport { details["transport"] = .string(transport) }
        let origin = HostRecordBuilder.Origin(source: Self.source, position: entry.cursor, details: details)
        return HostRecord(
            activity: activity, time: Date(timeIntervalSince1970: entry.time), process: (entry.identifier, entry.pid), message: entry.message,
            origin: origin, builder: builder)
    }

    /// Parses and builds in one step (tests, and callers that already hold every field).
    public func convert(_ entry: JournalEntry) -> LogLineConverter.Outcome {
        let (activity, other) = activity(identifier: entry.identifier, message: entry.message, unit: entry.unit, sender: entry.sender)
        guard let activity else { return other ?? .unknown }
        return .record(record(for: activity, entry: entry))
    }
}
