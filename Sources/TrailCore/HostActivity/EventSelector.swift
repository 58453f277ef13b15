// SPDX-License-Identifier: Apache-2.0

/// One rule saying which host activity is recorded, in the spirit of CloudTrail's advanced event
/// selectors, written as one string so it fits a flag and a flat TOML key:
///
/// ```
/// include identifier=nginx,haproxy            # keep their lines as generic LogMessage records
/// include unit=backup.service
/// exclude eventSource=cron.linux              # drop what a parser made of cron's lines
/// exclude eventSource=sshd.linux eventName=Disconnect
/// ```
///
/// Fields: `eventSource`, `eventName`, `readOnly` (`true`/`false`), `unit` (the systemd unit; from
/// the journal only), `identifier` (the syslog identifier). Conditions on different fields must all
/// hold; the comma-separated values of one field are alternatives.
public struct EventSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Action: String, Sendable, Hashable {
        /// Keep what matches, also lines no parser knows (as generic `LogMessage` records).
        case include
        /// Drop what matches, whatever else says.
        case exclude
    }

    public enum Field: String, Sendable, Hashable, CaseIterable {
        case eventSource, eventName, readOnly, unit, identifier
    }

    public var action: Action
    /// Field → the values any of which matches.
    public var conditions: [Field: Set<String>]

    public init(action: Action, conditions: [Field: Set<String>]) {
        self.action = action
        self.conditions = conditions
    }

    /// What a selector is matched against.
    public struct Facts: Sendable, Hashable {
        public var eventSource: String
        public var eventName: String
        public var readOnly: Bool
        public var unit: String?
        public var identifier: String

        public init(eventSource: String, eventName: String, readOnly: Bool, unit: String?, identifier: String) {
            self.eventSource = eventSource
            self.eventName = eventName
            self.readOnly = readOnly
            self.unit = unit
            self.identifier = identifier
        }
    }

    public func matches(_ facts: Facts) -> Bool {
        conditions.allSatisfy { field, values in
            switch field {
            case .eventSource: return values.contains(facts.eventSource)
            case .eventName: return values.contains(facts.eventName)
            case .readOnly: return values.contains(facts.readOnly ? "true" : "false")
            case .unit: return facts.unit.map(values.contains) ?? false
            case .identifier: return values.contains(facts.identifier)
            }
        }
    }

    /// Why a selector string is not one.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var selector: String
        public var reason: String
        public var description: String { "\"\(selector)\": \(reason)" }
    }

    /// Parses `include|exclude FIELD=VALUE[,VALUE…] …`.
    public init(parsing text: String) throws(ParseError) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first, let action = Action(rawValue: String(first)) else {
            throw ParseError(selector: text, reason: "must start with include or exclude")
        }
        guard words.count > 1 else {
            throw ParseError(selector: text, reason: "needs at least one condition FIELD=VALUE (fields: \(Self.fieldList))")
        }
        var conditions: [Field: Set<String>] = [:]
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "="), let field = Field(rawValue: String(word[..<equals])) else {
                throw ParseError(selector: text, reason: "\"\(word)\" is not FIELD=VALUE with a field of \(Self.fieldList)")
            }
            guard conditions[field] == nil else { throw ParseError(selector: text, reason: "\(field.rawValue) is given twice") }
            let values = word[word.index(after: equals)...].split(separator: ",").map(String.init)
            guard !values.isEmpty else { throw ParseError(selector: text, reason: "\(field.rawValue) has no value") }
            if field == .readOnly, let bad = values.first(where: { $0 != "true" && $0 != "false" }) {
                throw ParseError(selector: text, reason: "readOnly must be true or false, not \"\(bad)\"")
            }
            conditions[field] = Set(values)
        }
        self.init(action: action, conditions: conditions)
    }

    static let fieldList = Field.allCases.map(\.rawValue).joined(separator: ", ")

    public var description: String {
        ([action.rawValue]
            + conditions.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value.sorted().joined(separator: ","))" })
            .joined(separator: " ")
    }
}
