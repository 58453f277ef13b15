// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore

/// The archive's place in the ingest pipeline: it counts the records stored since the writer last
/// wrote, and wakes the writer once a log file's worth is waiting, so a busy collector writes
/// full log files as they fill instead of hundreds at once at the next interval.
public final class ArchiveBacklog: IngestConsumer {
    let recordsPerFile: Int
    let wakeup = Wakeup()
    private let waiting = Mutex(0)

    public init(recordsPerFile: Int = ArchiveWriter.recordsPerFile) {
        self.recordsPerFile = recordsPerFile
    }

    public func committed(_ records: [StoredRecord]) async {
        let full = waiting.withLock { waiting in
            waiting += records.count
            return waiting >= recordsPerFile
        }
        if full { wakeup.signal() }
    }

    /// How many full log files the records waiting make, taken off the count.
    func takeFullFiles() -> Int {
        waiting.withLock { waiting in
            let files = waiting / recordsPerFile
            waiting -= files * recordsPerFile
            return files
        }
    }

    /// The writer is about to write everything stored so far.
    func takeAll() {
        waiting.withLock { $0 = 0 }
    }
}
