// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// What a rule does when it fires. Every action is a durable job in the collector's store, queued
/// with the match, and each attempt is an `InvokeAction` record.
public enum RuleAction: Sendable, Hashable, Codable {
    /// An HTTPS POST of the match's JSON, signed (HMAC-SHA256 over the timestamp and the body).
    case webhook(Webhook)
    /// A program run with the match's JSON on its standard input, as an unprivileged user.
    case exec(Exec)
    /// A line in the collector's log (journal/syslog) at a priority.
    case log(Log)

    public struct Webhook: Sendable, Hashable, Codable {
        public var url: String
        /// The HMAC key's file (its bytes, a trailing newline removed); unsigned without one.
        public var secretFile: String?
        /// The receiver's CA, when not the system's.
        public var caFile: String?
        public var timeoutSeconds: Int
        public var retry: RetryPolicy

        public init(url: String, secretFile: String?, caFile: String?, timeoutSeconds: Int, retry: RetryPolicy) {
            self.url = url
            self.secretFile = secretFile
            self.caFile = caFile
            self.timeoutSeconds = timeoutSeconds
            self.retry = retry
        }
    }

    public struct Exec: Sendable, Hashable, Codable {
        /// The program (an absolute path) and its arguments.
        public var command: [String]
        public var user: String
        public var timeoutSeconds: Int
        public var retry: RetryPolicy

        public init(command: [String], user: String, timeoutSeconds: Int, retry: RetryPolicy) {
            self.command = command
            self.user = user
            self.timeoutSeconds = timeoutSeconds
            self.retry = retry
        }
    }

    public struct Log: Sendable, Hashable, Codable {
        /// syslog's names: `emerg` … `debug`.
        public var priority: String
        public init(priority: String) { self.priority = priority }
        public static let priorities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
    }

    /// How long and how often a failed attempt is tried again: exponential back-off with full
    /// jitter, `Retry-After` honoured, until either limit, then the job is dead-lettered.
    public struct RetryPolicy: Sendable, Hashable, Codable {
        public var maxAttempts: Int
        public var maxAgeSeconds: Int64
        public init(maxAttempts: Int, maxAgeSeconds: Int64) {
            self.maxAttempts = maxAttempts
            self.maxAgeSeconds = maxAgeSeconds
        }
        /// EventBridge's target defaults: 185 attempts over 24 hours.
        public static let eventBridge = RetryPolicy(maxAttempts: 185, maxAgeSeconds: 86_400)
        /// One attempt: a program that failed is not run again on its own.
        public static let once = RetryPolicy(maxAttempts: 1, maxAgeSeconds: 3600)
    }

    public var kind: String {
        switch self {
        case .webhook: "webhook"
        case .exec: "exec"
        case .log: "log"
        }
    }

    public var retry: RetryPolicy {
        switch self {
        case .webhook(let webhook): webhook.retry
        case .exec(let exec): exec.retry
        case .log: .once
        }
    }
}
