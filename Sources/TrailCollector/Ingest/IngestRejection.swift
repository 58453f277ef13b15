// SPDX-License-Identifier: Apache-2.0

/// Why `POST /v1/records` was refused: an HTTP status, a code and a message the agent logs.
public struct IngestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// The records of a batch refused one by one (`400 InvalidRecords`): the agent sets these
    /// aside and sends the rest again, so one bad record never takes its neighbours with it.
    public var refused: [RefusedRecord]

    /// One refused record of a batch: its position in `Records`, its event ID if it has one, why.
    public struct RefusedRecord: Sendable, Hashable {
        public var index: Int
        public var eventID: String?
        /// `InvalidRecord` or `RecordTooLarge`.
        public var code: String
        public var message: String
    }

    public init(status: Int, code: String, message: String, refused: [RefusedRecord] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.refused = refused
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> Self { .init(status: 400, code: "InvalidRecords", message: message) }
}
