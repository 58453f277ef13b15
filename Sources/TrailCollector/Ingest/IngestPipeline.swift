// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// What the collector does with every batch it stores, whoever made it (a host's delivery, the
/// collector's own records): commit it to the store, then hand it to each consumer in order. The
/// archive is the consumer today (``ArchiveBacklog``); Insights and rules are added here, in
/// ``Collector``, and nowhere else.
public struct IngestPipeline: Sendable {
    public let store: any EventStore
    let consumers: [any IngestConsumer]

    public init(store: any EventStore, consumers: [any IngestConsumer] = []) {
        self.store = store
        self.consumers = consumers
    }

    /// Commits `records` in one transaction (``EventStore/insert(_:collisionAlert:)``), then
    /// passes them on. Returns after the commit: the collector answers `200` on that promise.
    @discardableResult
    public func commit(
        _ records: [StoredRecord], collisionAlert: (@Sendable (EventIDCollision) -> StoredRecord?)? = nil
    ) async throws -> IngestResult {
        let result = try await store.insert(records, collisionAlert: collisionAlert)
        await committed(records, result: result)
        return result
    }

    /// Passes on records another transaction committed (retention's summary, stored with the
    /// deletion it describes).
    public func committed(_ records: [StoredRecord], result: IngestResult) async {
        for consumer in consumers { await consumer.committed(records, result: result) }
    }
}

/// Something that acts on what was stored. `committed` runs on the ingest path, after the commit
/// and before the answer: it must be quick (work of any size goes to the consumer's own task).
/// `records` is the whole batch, duplicates included (`result` counts them): a consumer that must
/// not act twice on one record keys on its host and event ID.
public protocol IngestConsumer: Sendable {
    func committed(_ records: [StoredRecord], result: IngestResult) async
}
