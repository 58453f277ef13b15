// SPDX-License-Identifier: Apache-2.0

/// How a daemon reads its configuration again on a reload: the settings it started with, and how
/// to read them anew (the file again, the same flags).
public struct ConfigurationReload: Sendable {
    public var settings: ConfigSettings
    public var load: @Sendable () throws -> ConfigSettings

    public init(settings: ConfigSettings, load: @escaping @Sendable () throws -> ConfigSettings) {
        self.settings = settings
        self.load = load
    }
}
