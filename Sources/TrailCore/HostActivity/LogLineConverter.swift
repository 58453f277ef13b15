// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Turns one line of a tailed log file into a record, or says why not.
public struct LogLineConverter: Sendable {
    public enum Format: Sendable, Hashable {
        /// auth.log, secure, syslog: `TIME HOST TAG[PID]: MESSAGE`.
        case syslog
        /// dpkg.log: `YYYY-MM-DD HH:MM:SS ACTION ...`.
        case dpkg
        /// apt's history.log: multi-line stanzas (see ``AptHistoryParser``).
        case aptHistory

        /// The format of a file by its name: `dpkg.log`, `history.log` (and their rotations) or syslog.
        public init(path: String) {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            self = name.hasPrefix("dpkg.log") ? .dpkg : name.hasPrefix("history.log") ? .aptHistory : .syslog
        }
    }

    public enum Outcome: Sendable {
        case record(HostRecord)
        /// Understood, nothing for the trail (sshd's chatter, dpkg's status lines).
        case ignored
        /// Well-formed, but no parser knows the message (dropped by default).
        case unknown
        /// Not a line of the file's format at all.
        case unparsed
        /// Older than the first-start cutoff (`--read-from boot`).
        case beforeStart
        /// Understood, and dropped by an `exclude` event selector.
        case excluded
    }

    public var builder: HostRecordBuilder
    public var selectors: EventSelectors

    public init(builder: HostRecordBuilder, selectors: EventSelectors = EventSelectors()) {
        self.builder = builder
        self.selectors = selectors
    }

    /// The outcome for a parser's result once the event selectors had their say.
    func selected(_ outcome: consuming AuthLogParser.Outcome, identifier: String, unit: String?) -> (HostActivity?, Outcome?) {
        // What is not recorded says why; what is moves on, not copied.
        let kind: Outcome =
            switch outcome {
            case .activity: .excluded
            case .ignored: .ignored
            case .unknown: .unknown
            }
        if let activity = selectors.select(outcome, identifier: identifier, unit: unit) { return (activity, nil) }
        return (nil, kind)
    }

    /// - Parameters:
    ///   - reference: Now, for the year of traditional syslog timestamps.
    ///   - notBefore: Lines older than this are skipped (first start from the current boot).
    ///   - aptRuns: Recent and ongoing apt runs, to say who asked for a dpkg line's change.
    public func convert(
        _ line: Substring, format: Format, reference: Date, utcOffsetSeconds: Int, notBefore: Date?, origin: HostRecordBuilder.Origin,
        aptRuns: [AptRun] = []
    ) -> Outcome {
        switch format {
        case .syslog:
            // Parsed on the line's bytes; only what the record keeps becomes a string.
            return LogText.with(line) { text in
                guard let parsed = SyslogLine.Parts(text, reference: reference, utcOffsetSeconds: utcOffsetSeconds) else { return .unparsed }
                if let notBefore, parsed.time < notBefore { return .beforeStart }
                let identifier = parsed.identifier.string
                let outcome = AuthLogParser.parse(identifier: identifier, message: parsed.message)
                let (activity, other) = selected(outcome, identifier: identifier, unit: nil)
                guard let activity else { return other ?? .unknown }
                return .record(
                    HostRecord(
                        activity: activity, time: parsed.time, process: (identifier, parsed.pid), message: parsed.message.string, origin: origin,
                        builder: builder))
            }
        case .aptHistory:
            // Stanzas, not lines: see ``convertAptStanza(_:reference:utcOffsetSeconds:notBefore:origin:)``.
            return .unparsed
        case .dpkg:
            guard let parsed = DpkgLogParser.parse(line, utcOffsetSeconds: utcOffsetSeconds) else { return .unparsed }
            if let notBefore, parsed.time < notBefore { return .beforeStart }
            let (selectedActivity, other) = selected(parsed.outcome, identifier: "dpkg", unit: nil)
            guard var activity = selectedActivity else { return other ?? .unknown }
            if case .string(let package)? = activity.requestParameters["package"],
                let run = AptRun.matching(
                    package: package, removes: ["RemovePackage", "PurgePackage"].contains(activity.eventName), at: parsed.time, in: aptRuns)
            {
                activity = run.attribute(activity)
            }
            return .record(
                HostRecord(activity: activity, time: parsed.time, process: ("dpkg", nil), message: String(line), origin: origin, builder: builder))
        }
    }

    /// One complete apt history stanza (fields in file order) as a record.
    public func convertAptStanza(_ fields: [(String, String)], utcOffsetSeconds: Int, notBefore: Date?, origin: HostRecordBuilder.Origin) -> Outcome {
        guard let (parsed, time) = AptHistoryParser.activity(fields, utcOffsetSeconds: utcOffsetSeconds) else { return .unparsed }
        if let notBefore, time < notBefore { return .beforeStart }
        let (activity, other) = selected(.activity(parsed), identifier: "apt", unit: nil)
        guard let activity else { return other ?? .unknown }
        let message = fields.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        return .record(HostRecord(activity: activity, time: time, process: ("apt", nil), message: message, origin: origin, builder: builder))
    }
}
