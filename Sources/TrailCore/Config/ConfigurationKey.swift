// SPDX-License-Identifier: Apache-2.0

/// One setting of a daemon: its name (the flag without `--` and the TOML key), what it sets, and
/// its default. Each daemon declares its keys once, in one table (`AgentConfiguration.keys`,
/// `CollectorConfiguration.keys`): the known TOML keys and each flag's help come from it, and tests
/// check the parser's defaults, the README's tables and `packaging/config/` against it.
public struct ConfigurationKey: Sendable, Hashable {
    public var name: String
    /// One line: what the key sets.
    public var summary: String
    /// The default as a reader reads it (`4 MiB`, `on`, `the certificate's CN`); `nil` for none.
    public var defaultText: String?
    /// The default as the file would give it, when it can be written: setting it changes nothing
    /// (a test checks).
    public var defaultValue: ConfigValue?

    public init(_ name: String, _ summary: String, default defaultText: String? = nil, value defaultValue: ConfigValue? = nil) {
        self.name = name
        self.summary = summary
        self.defaultText = defaultText
        self.defaultValue = defaultValue
    }

    /// The flag's help: the summary and the default.
    public var help: String {
        defaultText.map { "\(summary) (default \($0))." } ?? summary + "."
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
}
