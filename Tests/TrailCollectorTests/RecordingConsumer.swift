// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore

@testable import TrailCollector

/// A pipeline consumer that keeps the event names it was handed.
final class RecordingConsumer: IngestConsumer {
    private let heard = Mutex<[String]>([])

    func committed(_ records: [StoredRecord]) async {
        heard.withLock { $0 += records.map(\.eventName) }
    }

    var names: [String] { heard.withLock { $0 } }
}
