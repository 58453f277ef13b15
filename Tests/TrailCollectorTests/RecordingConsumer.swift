// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore

@testable import TrailCollector

/// A pipeline consumer that keeps the event names it was handed and the counts.
final class RecordingConsumer: IngestConsumer {
    private let heard = Mutex<(names: [String], accepted: Int)>(([], 0))

    func committed(_ records: [StoredRecord], result: IngestResult) async {
        heard.withLock {
            $0.names += records.map(\.eventName)
            $0.accepted += result.accepted
        }
    }

    var names: [String] { heard.withLock { $0.names } }
    var accepted: Int { heard.withLock { $0.accepted } }
}
