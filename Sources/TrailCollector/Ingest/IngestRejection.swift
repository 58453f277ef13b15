// SPDX-License-Identifier: Apache-2.0

/// Why `POST /v1/records` was refused: an HTTP status, a code and a message the agent logs.
public struct IngestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> Self { .init(status: 400, code: "InvalidRecords", message: message) }
}
