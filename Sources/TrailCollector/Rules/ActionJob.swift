// SPDX-License-Identifier: Apache-2.0

import TrailRules

/// One action of one match, run until it succeeds or its retry policy gives up.
public struct ActionJob: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable {
        case pending
        case succeeded
        /// Given up on: the dead-letter list (`hosttrail actions list --failed`).
        case failed
    }

    public var id: Int64
    public var rule: String
    /// The `RuleMatched` record's event ID.
    public var matchEventID: String
    public var action: RuleAction
    /// Derived from the match and the action's place in the rule: the same after a restart.
    public var idempotencyKey: String
    /// The JSON document the action is given.
    public var payload: String
    public var state: State
    public var attempts: Int
    /// ms since the epoch.
    public var createdAt: Int64
    public var nextAttemptAt: Int64
    public var lastError: String?

    /// A job to queue.
    public struct New: Sendable {
        public var rule: String
        public var matchEventID: String
        public var action: RuleAction
        public var idempotencyKey: String
        public var payload: String
    }

    /// An attempt's outcome.
    public struct Update: Sendable {
        public var state: State
        public var attempts: Int
        public var nextAttemptAt: Int64
        public var lastError: String?
    }
}
