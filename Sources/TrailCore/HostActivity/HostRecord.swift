// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// A host activity with everything its record needs (the time, the logging process, the
/// message and where it was read), not yet written. The spool gets ``canonicalJSON()``, written
/// straight from these parts; ``record`` builds the full model for whoever wants to look at it.
public struct HostRecord: Sendable {
    public var activity: HostActivity
    public var time: Date
    public var process: (identifier: String, pid: Int?)
    public var message: String
    public var origin: HostRecordBuilder.Origin
    let builder: HostRecordBuilder

    init(
        activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: HostRecordBuilder.Origin,
        builder: HostRecordBuilder
    ) {
        self.activity = activity
        self.time = time
        self.process = process
        self.message = message
        self.origin = origin
        self.builder = builder
    }

    /// The record's event ID (derived from its origin).
    public var eventID: String {
        origin.eventID ?? EventID.derive(machineID: builder.host.machineID, source: origin.source, position: origin.position)
    }

    /// The record as a model.
    public var record: CloudTrailRecord {
        builder.record(for: activity, time: time, process: process, message: message, origin: origin)
    }

    /// The record's canonical JSON: the same bytes as `record.canonicalJSON()`, written faster.
    public func canonicalJSON() -> Data {
        builder.canonicalJSON(for: activity, time: time, process: process, message: message, origin: origin)
    }

    /// Appends the canonical JSON to `output` (a spool frame being written).
    public func writeCanonicalJSON(to output: inout [UInt8]) {
        builder.writeCanonicalJSON(for: activity, time: time, process: process, message: message, origin: origin, to: &output)
    }
}
