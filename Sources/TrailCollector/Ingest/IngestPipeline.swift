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
        let batch = try await store.store(records, collisionAlert: collisionAlert)
        await committed(batch.stored)
        return batch.result
    }

    /// Passes on records another transaction committed (retention's summary, stored with the
    /// deletion it describes).
    public func committed(_ records: [StoredRecord]) async {
        guard !records.isEmpty else { return }
        for consumer in consumers { await consumer.committed(records) }
    }
}

/// Something that acts on what was stored. `committed` runs on the ingest path, after the commit
/// and before the answer: it must be quick (work of any size goes to the consumer's own task).
/// `records` are those new to the store, each once (a retried batch's duplicates are left out),
/// and the alert records the insert added.
public protocol IngestConsumer: Sendable {
    func committed(_ records: [StoredRecord]) async
}
