// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Why a response could not be carried out: the `errorCode` and message of its record.
struct ResponseFailure: Error, Sendable, CustomStringConvertible {
    var code: String
    var message: String
    /// What the record keeps besides (a program's exit code and output).
    var details: [String: JSONValue] = [:]
    var description: String { "\(code): \(message)" }
}
