// SPDX-License-Identifier: Apache-2.0

/// The configured ``EventSelector``s, applied to every line and journal entry.
///
/// What a parser understood is recorded unless an `exclude` selector matches it; a line no parser
/// knows is dropped unless an `include` selector matches it, and then it becomes a generic
/// `LogMessage` record. `exclude` wins over `include`.
public struct EventSelectors: Sendable, Hashable {
    public var selectors: [EventSelector]

    public init(_ selectors: [EventSelector] = []) {
        self.selectors = selectors
    }

    /// The activity to record for a parser's outcome, or `nil`.
    public func select(_ outcome: consuming AuthLogParser.Outcome, identifier: String, unit: String?) -> HostActivity? {
        let activity: HostActivity
        switch consume outcome {  // the activity moves out (a copy retains each of its strings)
        case .activity(let parsed):
            // The default configuration has no selectors: nothing to match.
            if selectors.isEmpty { return parsed }
            activity = parsed
        case .unknown:
            guard selectors.contains(where: { $0.action == .include }) else { return nil }
            activity = Self.generic(identifier: identifier, unit: unit)
            guard selectors.contains(where: { $0.action == .include && $0.matches(factsOf(activity, identifier, unit)) }) else { return nil }
        case .ignored:
            return nil
        }
        let facts = factsOf(activity, identifier, unit)
        if selectors.contains(where: { $0.action == .exclude && $0.matches(facts) }) { return nil }
        return activity
    }

    private func factsOf(_ activity: HostActivity, _ identifier: String, _ unit: String?) -> EventSelector.Facts {
        EventSelector.Facts(
            eventSource: activity.eventSource, eventName: activity.eventName, readOnly: activity.readOnly, unit: unit, identifier: identifier)
    }

    /// A line no parser knows, kept by an `include` selector: `<identifier>.linux` `LogMessage`.
    public static func generic(identifier: String, unit: String?) -> HostActivity {
        var parameters: [String: JSONValue] = ["identifier": .string(identifier)]
        if let unit { parameters["unit"] = .string(unit) }
        return HostActivity(
            eventSource: genericEventSource(identifier), eventName: "LogMessage", readOnly: true, eventType: "AwsServiceEvent",
            requestParameters: parameters)
    }

    /// `<identifier>.linux` with the identifier lowercased and reduced to letters, digits, `-` and `_`
    /// (`syslog.linux` when nothing is left).
    public static func genericEventSource(_ identifier: String) -> String {
        let kept = identifier.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
        return (kept.isEmpty ? "syslog" : String(String.UnicodeScalarView(kept.prefix(64)))) + ".linux"
    }

    /// What the journal reader may ask journald for instead of reading every entry: the parsers'
    /// identifiers plus the identifiers and units the `include` selectors name. `nil` when some
    /// `include` selector names neither, so every entry must be read and tested here.
    public var journalIncludes: (identifiers: [String], units: [String])? {
        var identifiers = AuthLogParser.identifiers
        var units: [String] = []
        for selector in selectors where selector.action == .include {
            if let named = selector.conditions[.identifier] {
                identifiers += named.sorted()
            } else if let named = selector.conditions[.unit] {
                units += named.sorted()
            } else {
                return nil
            }
        }
        return (identifiers, units)
    }
}
