// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization
import TrailCore

/// The agent's own records, as source `agent`: `AgentStarted` (and `SpoolRecovered` when start-up
/// repaired the spool) when the agent starts, a `Heartbeat` every heartbeat interval, and
/// `AgentStopped` when it stops. Logs the spool's and every source's counters every minute.
///
/// It runs after the shipper in the service group, so on shutdown it stops first and its
/// `AgentStopped` is in the spool before the shipper's final drain.
final class AgentLifecycleService: Service {
    private let spool: Spool
    private let contexts: SourceContexts
    private let context: SourceContext
    private let startBuilder: AgentRecordBuilder
    /// The hash of the settings in force, which a reload changes: a heartbeat and `AgentStopped`
    /// name the configuration the agent runs with then, not the one it started with.
    let configurationHash: LiveValue<String>
    private let heartbeatInterval: Duration
    private let logger: Logger

    init(spool: Spool, contexts: SourceContexts, builder: AgentRecordBuilder, heartbeatInterval: Duration, logger: Logger) {
        self.spool = spool
        self.contexts = contexts
        context = contexts.make("agent", awaitedForReadiness: false)
        startBuilder = builder
        configurationHash = LiveValue(builder.configurationHash)
        self.heartbeatInterval = heartbeatInterval
        self.logger = logger
    }

    private var builder: AgentRecordBuilder {
        var current = startBuilder
        current.configurationHash = configurationHash.current
        return current
    }

    func run() async throws {
        var records = [try builder.agentStarted(now: Date()).canonicalJSON()]
        let recovery = spool.recovery
        if !recovery.isClean {
            let details: [String: JSONValue] = [
                "tornTails": .integer(Int64(recovery.tornTails)), "tornBytes": .integer(Int64(recovery.tornBytes)),
                "corruptRanges": .integer(Int64(recovery.corruptRanges)), "corruptBytes": .integer(Int64(recovery.corruptBytes)),
                "quarantinedSegments": .array(recovery.quarantinedSegments.map(JSONValue.string)),
            ]
            records.append(try builder.spoolRecovered(now: Date(), details: details).canonicalJSON())
        }
        try await context.commit(SourceBatch(records))
        logger.info(
            "agent started",
            metadata: [
                "agent.version": "\(builder.version)", "agent.config-hash": "\(builder.configurationHash)",
                "spool.pending": "\(spool.pendingRecords)",
            ])
        let reason: String
        do {
            // The counters go to the log every minute until shutdown (and once more at the end), and
            // into a Heartbeat record every heartbeat interval.
            try await cancelWhenGracefulShutdown {
                let clock = ContinuousClock()
                var nextLog = clock.now + .seconds(60)
                var nextHeartbeat = clock.now + self.heartbeatInterval
                var heartbeats = 0
                var droppedBefore = self.spool.currentCounters.droppedFull + self.spool.currentCounters.droppedCorrupt
                // (time, drops so far) at each heartbeat: what was dropped in the last window.
                var samples = [(clock.now, droppedBefore)]
                while true {
                    try await Task.sleep(until: min(nextLog, nextHeartbeat), clock: clock)
                    if clock.now >= nextLog {
                        self.logCounters("spool counters")
                        nextLog = clock.now + .seconds(60)
                    }
                    if clock.now >= nextHeartbeat {
                        heartbeats += 1
                        let counters = self.spool.currentCounters
                        let dropped = counters.droppedFull + counters.droppedCorrupt
                        while samples.count > 1 && samples[1].0 <= clock.now - Self.recentDropsWindow { samples.removeFirst() }
                        let record = self.builder.heartbeat(
                            now: Date(), sequence: heartbeats, intervalSeconds: Int64(self.heartbeatInterval / .seconds(1)),
                            details: self.heartbeatDetails(droppedSinceLast: dropped - droppedBefore, droppedRecently: dropped - samples[0].1))
                        droppedBefore = dropped
                        samples.append((clock.now, dropped))
                        // Once: a spool that refuses it (full, failing) skips this heartbeat, not the log.
                        do {
                            try await self.context.commitOnce(SourceBatch([try record.canonicalJSON()]))
                        } catch {
                            self.logger.warning("a heartbeat was not recorded", metadata: ["error": "\(error)"])
                        }
                        nextHeartbeat = clock.now + self.heartbeatInterval
                    }
                }
            }
            reason = "shutdown"
        } catch is CancellationError where Task.isShuttingDownGracefully {
            reason = "shutdown"
        } catch {
            reason = Task.isShuttingDownGracefully ? "shutdown" : "error"
        }
        do {
            // Waited for here, once, not retried: the task may be cancelled (a failing group), and
            // this record must still be written. One fsync at shutdown is no hardship.
            let stopped = context.start(SourceBatch([try builder.agentStopped(now: Date(), reason: reason).canonicalJSON()]))
            try stopped.result().get()
        } catch {
            logger.error("cannot record AgentStopped", metadata: ["error": "\(error)"])
        }
        logCounters("agent stopping", reason: reason)
    }

    /// What a `Heartbeat` says: the spool's counters (received = acknowledged + pending + dropped +
    /// dead-lettered), its depth, the oldest record waiting (its event time and age), each source's records.
    /// A heartbeat's `droppedRecently` counts drops this far back: a host shows as dropping for
    /// that long after its last drop, not only until its next heartbeat.
    static let recentDropsWindow = Duration.seconds(15 * 60)

    func heartbeatDetails(droppedSinceLast: Int, droppedRecently: Int) -> [String: JSONValue] {
        let counters = spool.currentCounters
        var spoolMembers: [String: JSONValue] = [
            "received": .integer(Int64(counters.received)), "shipped": .integer(Int64(counters.shipped)),
            "acknowledged": .integer(Int64(counters.acknowledged)), "duplicates": .integer(Int64(counters.duplicates)),
            "droppedFull": .integer(Int64(counters.droppedFull)), "droppedCorrupt": .integer(Int64(counters.droppedCorrupt)),
            "deadLettered": .integer(Int64(counters.deadLettered)), "refusedFull": .integer(Int64(counters.refusedFull)),
            "pendingRecords": .integer(Int64(spool.pendingRecords)), "bytes": .integer(Int64(spool.bytesOnDisk)),
            "droppedSinceLastHeartbeat": .integer(Int64(droppedSinceLast)), "droppedLast15Minutes": .integer(Int64(droppedRecently)),
        ]
        // The oldest record still to ship: how far behind the trail is on this host.
        if let oldest = spool.oldestRecordEventTime() {
            spoolMembers["oldestEventTime"] = .string(oldest.text)
            spoolMembers["oldestRecordAgeSeconds"] = .integer(max(0, Int64(Date().timeIntervalSince(oldest.date))))
        }
        var sources: [String: JSONValue] = [:]
        for source in contexts.all { sources[source.name] = ["records": .integer(Int64(source.counters.records))] }
        return ["spool": .object(spoolMembers), "sources": .object(sources)]
    }

    /// received = acknowledged + pending + dropped + dead-lettered, in one line.
    func logCounters(_ message: Logger.Message, reason: String? = nil) {
        let counters = spool.currentCounters
        var metadata: Logger.Metadata = [
            "spool.received": "\(counters.received)", "spool.shipped": "\(counters.shipped)",
            "spool.acknowledged": "\(counters.acknowledged)", "spool.duplicates": "\(counters.duplicates)",
            "spool.pending": "\(spool.pendingRecords)", "spool.dropped.full": "\(counters.droppedFull)",
            "spool.dropped.corrupt": "\(counters.droppedCorrupt)", "spool.dead-lettered": "\(counters.deadLettered)",
            "spool.refused.full": "\(counters.refusedFull)", "spool.bytes": "\(spool.bytesOnDisk)",
        ]
        for source in contexts.all {
            let counters = source.counters
            metadata["source.\(source.name).records"] = "\(counters.records)"
            if counters.refusals > 0 { metadata["source.\(source.name).refusals"] = "\(counters.refusals)" }
        }
        if let reason { metadata["reason"] = "\(reason)" }
        logger.info(message, metadata: metadata)
    }
}

/// Builds the `EventsDropped` records the spool writes when `drop_oldest` drops.
final class EventsDroppedRecordFactory: Sendable {
    private let builder: AgentRecordBuilder
    private let sequence = Mutex(0)

    init(builder: AgentRecordBuilder) {
        self.builder = builder
    }

    func record(_ summary: Spool.DropSummary) -> Data? {
        let number = sequence.withLock { value in
            value += 1
            return value
        }
        return try? builder.eventsDropped(
            now: Date(), count: summary.count, firstEventTime: summary.firstEventTime, lastEventTime: summary.lastEventTime,
            reason: summary.reason, sequence: number
        ).canonicalJSON()
    }
}
