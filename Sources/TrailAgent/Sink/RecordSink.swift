// SPDX-License-Identifier: Apache-2.0

/// Where sources commit their records: the spool in the agent, memory in tests. Sources reach it
/// through their ``SourceContext``, which holds the one retry-while-full loop.
public protocol RecordSink: AnyObject, Sendable {
    /// The latest committed checkpoint of each source when the sink was opened, by source name.
    var checkpoints: [String: String] { get }

    /// Queues `batch` with its source's checkpoint (committed by the same write, so a restart
    /// resumes exactly after the last record stored); `completion` runs once both are durable, or
    /// with why not: ``RecordSinkFull`` under the `block` policy, anything else when the sink
    /// cannot write. It may run on any thread and must not block.
    func submit(
        _ batch: SourceBatch, checkpoint: (source: String, position: String)?,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
}

/// The sink is full and its policy is `block`: retry later.
public struct RecordSinkFull: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the spool is full (policy block); retry later" }
}
