// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// How one attempt of an action went: what the `InvokeAction` record says of it.
struct ActionOutcome: Sendable {
    /// `nil` on success.
    var errorCode: String?
    var errorMessage: String?
    /// `statusCode`, `exitCode`, `output` …
    var details: [String: JSONValue]
    /// Whether trying again could help (a 4xx other than 408 and 429 will not).
    var retryable: Bool
    /// The receiver's `Retry-After`.
    var retryAfter: Duration?

    static func success(_ details: [String: JSONValue]) -> ActionOutcome {
        ActionOutcome(errorCode: nil, errorMessage: nil, details: details, retryable: false, retryAfter: nil)
    }

    var succeeded: Bool { errorCode == nil }
}
