// SPDX-License-Identifier: Apache-2.0

/// What one Insight counts: calls of one `(eventSource, eventName)` (CloudTrail's
/// `ApiCallRateInsight`, write calls only), or those ending in one `errorCode`
/// (`ApiErrorRateInsight`), across the fleet, on one host, or by one user; or a host's whole
/// activity, watched for silence (`HostSilent`).
public struct InsightKey: InsightDetectorKey, CustomStringConvertible {
    public enum Scope: Hashable, Sendable {
        case fleet
        case host(String)
        case user(String)
    }

    public enum Measure: Hashable, Sendable {
        /// Write calls.
        case calls
        /// Calls failing with this error code.
        case errors(String)
        /// Every record of a host, for `HostSilent`.
        case activity
    }

    public var scope: Scope
    public var eventSource: String
    public var eventName: String
    public var measure: Measure

    public init(scope: Scope, eventSource: String, eventName: String, errorCode: String? = nil) {
        self.scope = scope
        self.eventSource = eventSource
        self.eventName = eventName
        measure = errorCode.map(Measure.errors) ?? .calls
    }

    /// The event source and name a `HostSilent` Insight is listed under.
    public static let silenceEventSource = "agent.hosttrail"
    public static let silenceEventName = "HostSilent"

    /// `host`'s whole activity.
    public static func activity(of host: String) -> InsightKey {
        var key = InsightKey(scope: .host(host), eventSource: silenceEventSource, eventName: silenceEventName)
        key.measure = .activity
        return key
    }

    /// The error code of an error-rate key.
    public var errorCode: String? {
        if case .errors(let code) = measure { return code }
        return nil
    }

    public var watchesSilence: Bool { measure == .activity }

    public var insightType: String {
        switch measure {
        case .calls: "ApiCallRateInsight"
        case .errors: "ApiErrorRateInsight"
        case .activity: "HostSilent"
        }
    }

    /// The keys one record counts under, at most seven: its write call (`readOnly` false) and its
    /// error, each across the fleet, on its host and by its user; and its host's activity.
    public static func keys(
        eventSource: String, eventName: String, readOnly: Bool?, errorCode: String?, host: String, userName: String?
    ) -> [InsightKey] {
        var scopes: [Scope] = [.fleet, .host(host)]
        if let userName, !userName.isEmpty { scopes.append(.user(userName)) }
        var keys: [InsightKey] = [.activity(of: host)]
        if readOnly == false {
            keys += scopes.map { InsightKey(scope: $0, eventSource: eventSource, eventName: eventName) }
        }
        if let errorCode, !errorCode.isEmpty {
            keys += scopes.map { InsightKey(scope: $0, eventSource: eventSource, eventName: eventName, errorCode: errorCode) }
        }
        return keys
    }

    /// Whether a record says its host's agent stops (`AgentStopped`): its silence is expected.
    public static func stopsActivity(eventSource: String, eventName: String) -> Bool {
        eventSource == AgentRecordBuilder.eventSource && eventName == "AgentStopped"
    }

    /// Stable text for the key (event IDs derive from it): fields separated by NUL, which no
    /// stored identifier holds.
    public var description: String {
        let scopeText =
            switch scope {
            case .fleet: "fleet"
            case .host(let host): "host\u{0}\(host)"
            case .user(let user): "user\u{0}\(user)"
            }
        let measureText =
            switch measure {
            case .calls: ""
            case .errors(let code): code
            case .activity: "\u{0}activity"
            }
        return [scopeText, eventSource, eventName, measureText].joined(separator: "\u{0}")
    }
}
