// SPDX-License-Identifier: Apache-2.0

/// What one Insight counts: calls of one `(eventSource, eventName)` (CloudTrail's
/// `ApiCallRateInsight`, write calls only), or those ending in one `errorCode`
/// (`ApiErrorRateInsight`), across the fleet, on one host, or by one user.
public struct InsightKey: Hashable, Sendable, CustomStringConvertible {
    public enum Scope: Hashable, Sendable {
        case fleet
        case host(String)
        case user(String)
    }

    public var scope: Scope
    public var eventSource: String
    public var eventName: String
    /// `nil`: the call rate; otherwise the rate of calls failing with it.
    public var errorCode: String?

    public init(scope: Scope, eventSource: String, eventName: String, errorCode: String? = nil) {
        self.scope = scope
        self.eventSource = eventSource
        self.eventName = eventName
        self.errorCode = errorCode
    }

    public var insightType: String { errorCode == nil ? "ApiCallRateInsight" : "ApiErrorRateInsight" }

    /// The keys one record counts under, at most six: its write call (`readOnly` false) and its
    /// error, each across the fleet, on its host and by its user.
    public static func keys(
        eventSource: String, eventName: String, readOnly: Bool?, errorCode: String?, host: String, userName: String?
    ) -> [InsightKey] {
        var scopes: [Scope] = [.fleet, .host(host)]
        if let userName, !userName.isEmpty { scopes.append(.user(userName)) }
        var keys: [InsightKey] = []
        if readOnly == false {
            keys += scopes.map { InsightKey(scope: $0, eventSource: eventSource, eventName: eventName) }
        }
        if let errorCode, !errorCode.isEmpty {
            keys += scopes.map { InsightKey(scope: $0, eventSource: eventSource, eventName: eventName, errorCode: errorCode) }
        }
        return keys
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
        return [scopeText, eventSource, eventName, errorCode ?? ""].joined(separator: "\u{0}")
    }
}
