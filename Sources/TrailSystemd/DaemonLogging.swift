// SPDX-License-Identifier: Apache-2.0

import Logging

/// How HostTrail's daemons log: swift-log to standard error, which systemd passes to the journal.
public enum DaemonLogging {
    /// The levels `log-level` accepts.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    /// Bootstraps swift-log once, at `level` (`info` when `nil` or unknown), and returns the daemon's logger.
    public static func bootstrap(label: String, level: String?) -> Logger {
        let threshold = level.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = threshold
            return handler
        }
        return Logger(label: label)
    }
}
