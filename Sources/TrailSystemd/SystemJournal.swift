// SPDX-License-Identifier: Apache-2.0

import CSystemd

/// Writes the service's own messages to the journal (sd_journal_send(3)).
///
/// sd_journal_send is thread-safe, so a value of this type can be shared freely. Note that it
/// returns success even when no journald runs: the message is then dropped silently.
public struct SystemJournal: Sendable {
    public var identifier: String

    public init(identifier: String) {
        self.identifier = identifier
    }

    /// Sends `message` at syslog `priority` (6 = info, 4 = warning, 3 = error).
    @discardableResult
    public func send(_ message: String, priority: Int32 = 6) -> Bool {
        csystemd_journal_send_message(message, priority, identifier) >= 0
    }
}
