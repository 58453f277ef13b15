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
    /// A response each host performs as its own definition allows (`responses.d` on the host):
    /// the collector asks the hosts named for the response by name, with arguments read from the
    /// match.
    case respond(Respond)

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

    public struct Respond: Sendable, Hashable, Codable {
        /// Which hosts are asked.
        public enum Hosts: Sendable, Hashable, Codable {
            /// The hosts of the records that matched (the default).
            case matched
            /// Every host that takes requests.
            case all
            /// Hosts whose names match one of these patterns (`*` any characters).
            case matching([String])
        }

        /// The name hosts define it under (`responses.d/NAME.toml`).
        public var response: String
        public var hosts: Hosts
        /// Each argument's value: a path in the envelope of the match's last record
        /// (`detail.sourceIPAddress`), or a literal when it does not start with `detail.`.
        public var arguments: [String: String]
        /// The duration asked for; the host's default when absent (a host's escalation wins).
        public var seconds: Int64?
        /// A host that has not taken the request by then refuses it (RequestExpired).
        public var deadlineSeconds: Int64

        public init(response: String, hosts: Hosts, arguments: [String: String], seconds: Int64?, deadlineSeconds: Int64) {
            self.response = response
            self.hosts = hosts
            self.arguments = arguments
            self.seconds = seconds
            self.deadlineSeconds = deadlineSeconds
        }

        /// The arguments' values for the match whose last record has `envelope`: each path's
        /// value there (a string or a whole number), each literal as it is; `.failure` names the
        /// first argument whose path holds neither.
        public func arguments(in envelope: JSONValue) -> Result<[String: String], MissingArgument> {
            var values: [String: String] = [:]
            for (name, source) in arguments.sorted(by: { $0.key < $1.key }) {
                guard source.hasPrefix("detail.") else {
                    values[name] = source
                    continue
                }
                switch FieldPath(source)?.value(in: envelope) {
                case .string(let text)?: values[name] = text
                case .integer(let number)?: values[name] = String(number)
                default: return .failure(MissingArgument(name: name, path: source))
                }
            }
            return .success(values)
        }

        public struct MissingArgument: Error, Sendable, CustomStringConvertible {
            public var name: String
            public var path: String
            public var description: String { "the match's last record has no \(path) for \(name)" }
        }

        /// Whether `host` is among those asked, when they are named by pattern.
        public static func host(_ host: String, matches patterns: [String]) -> Bool {
            patterns.contains { Wildcard.matches($0, host) }
        }
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
        case .respond: "respond"
        }
    }

    public var retry: RetryPolicy {
        switch self {
        case .webhook(let webhook): webhook.retry
        case .exec(let exec): exec.retry
        case .log, .respond: .once
        }
    }
}
