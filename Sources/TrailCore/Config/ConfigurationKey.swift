// SPDX-License-Identifier: Apache-2.0

/// One setting of a daemon: its name (the flag without `--` and the TOML key), its kind (an
/// integer's range is the one the parser enforces), what it sets, and its default. Each daemon declares its keys once, in one table (`AgentConfiguration.keys`,
/// `CollectorConfiguration.keys`): the known TOML keys and each flag's help come from it, and tests
/// check the parser's defaults, the README's tables and `packaging/config/` against it.
public struct ConfigurationKey: Sendable, Hashable {
    /// What a key holds in the file (and how its flag is given).
    public enum Kind: Sendable, Hashable {
        /// A string: a path, a name, a URL, a duration like `5m`.
        case text
        /// A whole number in the range (the parser refuses others).
        case integer(ClosedRange<Int>)
        /// `true` or `false` (a flag, with `--no-` for false where it defaults to on).
        case flag
        /// A list of strings (a repeatable flag).
        case list
    }

    public var name: String
    public var kind: Kind
    /// One line: what the key sets.
    public var summary: String
    /// The default as a reader reads it (`4 MiB`, `on`, `the certificate's CN`); `nil` for none.
    public var defaultText: String?
    /// The default as the file would give it, when it can be written: setting it changes nothing
    /// (a test checks).
    public var defaultValue: ConfigValue?
    /// Whether a reload (SIGHUP) applies a new value while the daemon runs; otherwise the log says
    /// "restart needed" and the running value stays.
    public var reload: Reload

    public enum Reload: Sendable, Hashable {
        case live
        case restart
    }

    public init(
        _ name: String, _ kind: Kind, _ summary: String, default defaultText: String? = nil, value defaultValue: ConfigValue? = nil,
        reload: Reload = .restart
    ) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.defaultText = defaultText
        self.defaultValue = defaultValue
        self.reload = reload
    }

    /// The flag's help: the summary, the default and an integer's range.
    public var help: String {
        var notes: [String] = []
        if let defaultText { notes.append("default \(defaultText)") }
        if case .integer(let range) = kind { notes.append("\(range.lowerBound) to \(range.upperBound)") }
        return notes.isEmpty ? summary + "." : "\(summary) (\(notes.joined(separator: "; ")))."
    }
}

extension Array where Element == ConfigurationKey {
    /// The key called `name`; a name no key has is a programming error.
    public subscript(_ name: String) -> ConfigurationKey {
        guard let key = first(where: { $0.name == name }) else { preconditionFailure("no configuration key \(name)") }
        return key
    }

    /// The names the file and the flags accept.
    public var names: Set<String> { Set(map(\.name)) }

    /// What a reload from `old` to `new` settings changes: the keys it applies, and the keys whose
    /// new value waits for a restart.
    public func reloadChanges(from old: ConfigSettings, to new: ConfigSettings) -> (live: [String], restartNeeded: [String]) {
        let changed = new.changedKeys(from: old)
        let live = Set(filter { $0.reload == .live }.map(\.name))
        return (changed.filter(live.contains), changed.filter { !live.contains($0) })
    }
}
