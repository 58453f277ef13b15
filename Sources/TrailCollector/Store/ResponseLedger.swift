// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// The collector's side of host responses, in the store's database: the requests queued for each
/// host, what each came to (the host's acknowledgement), and the hosts that take requests.
public protocol ResponseLedger: Sendable {
    /// Hosts whose agents poll for requests, with the responses each defines.
    func hosts() async throws -> [ResponseHost]
    /// In one transaction: queues `requests` (each once: IDs derive from the match), stores their
    /// `RequestResponse` records, and finishes the respond job with its `InvokeAction` record.
    func queue(_ requests: [QueuedResponse], records: [StoredRecord], job: ActionJob, update: ActionJob.Update, invoked: StoredRecord)
        async throws -> [StoredRecord]
    /// One poll of `host`: its acknowledgements applied, the host registered with its responses,
    /// then the requests waiting for it (marked delivered; delivered again until acknowledged).
    func exchange(host: String, poll: ResponsePoll, now: Int64) async throws -> [ResponseRequest]
    /// Requests, newest first; only those queued, delivered or in force when `active`.
    func requests(active: Bool, limit: Int) async throws -> [QueuedResponse]
    /// Undoes request `id`, or every request of the response group `id`: one queued and not yet
    /// delivered is cancelled; one delivered or in force gets a revert request to its host.
    /// Returns the revert requests queued and how many were cancelled; `nil` when `id` is unknown.
    func revert(id: String, now: Int64) async throws -> (queued: [QueuedResponse], cancelled: Int)?
}

/// A host that takes requests.
public struct ResponseHost: Sendable, Hashable {
    public var host: String
    public var responses: [String]
    /// Seconds since the epoch.
    public var lastSeen: Int64
}

/// One request to one host, and where it stands.
public struct QueuedResponse: Sendable, Hashable {
    public enum State: String, Sendable, Codable {
        case queued, delivered, performed, refused, failed, expired, reverted, cancelled
    }

    public var request: ResponseRequest
    /// The fan-out it belongs to (one rule firing's respond action): reverted together.
    public var group: String
    public var host: String
    public var state: State
    public var deliveries: Int
    public var errorCode: String?
    public var message: String?
    /// `performed`: when the host ends it (seconds since the epoch).
    public var expiresAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(request: ResponseRequest, group: String, host: String, now: Int64) {
        self.request = request
        self.group = group
        self.host = host
        state = .queued
        deliveries = 0
        createdAt = now
        updatedAt = now
    }
}
