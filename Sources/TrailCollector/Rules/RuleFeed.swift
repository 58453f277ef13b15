// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// Rules' place in the ingest pipeline: it wakes ``RulesService`` when records other than its
/// own are stored; the service reads them back from the store in the order they were stored.
final class RuleFeed: IngestConsumer {
    let wakeup = Wakeup()

    func committed(_ records: [StoredRecord]) async {
        if records.contains(where: { $0.eventSource != RecordBinder.rulesEventSource }) { wakeup.signal() }
    }
}
