// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

extension Spool {
    /// The event time of the oldest record still to ship (its `eventTime` text and the instant):
    /// how far behind the trail is on this host. `nil` when the spool is empty or the record has
    /// no readable time.
    func oldestRecordEventTime() -> (text: String, date: Date)? {
        guard let oldest = try? oldest(maxRecords: 1, maxBytes: 1).flatMap(\.records.first),
            let text = (try? JSONValue.parse(Array(oldest)))?["eventTime"]?.stringValue, let date = TrailTime.parseISO8601(text)
        else { return nil }
        return (text, date)
    }
}
