// SPDX-License-Identifier: Apache-2.0

/// The agent's long-poll for response requests, `POST /v1/responses` over its mTLS identity:
/// it carries the outcomes of the requests handled since the last poll and the responses the host
/// defines; the collector answers with the requests waiting for the host, at once when there are
/// some, else when one arrives or `waitSeconds` have passed.
public struct ResponsePoll: Sendable, Codable, Equatable {
    public struct Ack: Sendable, Codable, Equatable {
        public var id: String
        public var outcome: ResponseBook.Outcome
        public init(id: String, outcome: ResponseBook.Outcome) {
            self.id = id
            self.outcome = outcome
        }
    }

    public var acks: [Ack]
    /// At most ``maxWaitSeconds``.
    public var waitSeconds: Int
    /// The names of the responses this host defines (what `responses list` shows it can do).
    public var responses: [String]

    public static let maxWaitSeconds = 25

    public init(acks: [Ack], waitSeconds: Int, responses: [String]) {
        self.acks = acks
        self.waitSeconds = waitSeconds
        self.responses = responses
    }

    /// The collector's answer.
    public struct Answer: Sendable, Codable, Equatable {
        public var requests: [ResponseRequest]
        public init(requests: [ResponseRequest]) { self.requests = requests }
    }
}
