// SPDX-License-Identifier: Apache-2.0

/// The settings a daemon runs with as reloads change them: a key declared `reload: .live` takes
/// its new value; any other keeps the value in force (a restart applies it), so the next reload
/// names it again.
public struct RunningSettings: Sendable {
    public private(set) var settings: ConfigSettings
    private let keys: [ConfigurationKey]

    public init(_ settings: ConfigSettings, keys: [ConfigurationKey]) {
        self.settings = settings
        self.keys = keys
    }

    /// Takes a reload's settings; returns the changed keys applied live and those that wait for a restart.
    public mutating func take(_ new: ConfigSettings) -> (live: [String], restartNeeded: [String]) {
        let changes = keys.reloadChanges(from: settings, to: new)
        var kept = new
        for key in changes.restartNeeded { kept.replace(key, from: settings) }
        settings = kept
        return changes
    }
}
