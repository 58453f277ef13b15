// SPDX-License-Identifier: Apache-2.0

import Logging

/// How HostTrail's daemons log: swift-log to standard error, which systemd passes to the journal,
/// in the chosen ``LogFormat``.
public enum DaemonLogging {
    /// The levels `log-level` accepts.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    private static let level = SharedLogLevel(.info)

    /// Bootstraps swift-log once, at `level` (`info` when `nil` or unknown) in `format` (`text` when
    /// `nil` or unknown), and returns the daemon's logger.
    public static func bootstrap(label: String, level: String?, format: String? = nil) -> Logger {
        Self.level.set(level.flatMap(Logger.Level.init(rawValue:)) ?? .info)
        let format = format.flatMap(LogFormat.init(rawValue:)) ?? .text
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, format: format, level: Self.level) }
        return Logger(label: label)
    }

    /// The level every logger follows from now on (a reload's new `log-level`).
    public static func setLevel(_ name: String) {
        if let new = Logger.Level(rawValue: name) { level.set(new) }
    }

    /// The level in force.
    public static var currentLevel: String { level.current.rawValue }
}
