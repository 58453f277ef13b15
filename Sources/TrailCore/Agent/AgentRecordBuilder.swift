// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// The agent's records about itself (`eventSource` `agent.hosttrail`).
///
/// `AgentStarted` and `AgentStopped` bracket every run, so a gap in a host's trail is visible: a
/// start without a stop before it means the previous run ended without a clean shutdown.
public struct AgentRecordBuilder: Sendable {
    /// The event source of the agent's own records.
    public static let eventSource = "agent.hosttrail"
    public static let heartbeatEventName = "Heartbeat"

    public var host: HostIdentity
    public var version: String
    /// SHA-256 of the effective configuration, so a configuration change shows in the trail.
    public var configurationHash: String
    /// The agent's process: who it runs as.
    public var process: PeerCredentials
    /// When this run started: part of every agent record's position, so each run's records are distinct.
    public var runStarted: Date

    public init(host: HostIdentity, version: String, configurationHash: String, process: PeerCredentials, runStarted: Date) {
        self.host = host
        self.version = version
        self.configurationHash = configurationHash
        self.process = process
        self.runStarted = runStarted
    }

    public func agentStarted(now: Date) -> CloudTrailRecord {
        record(eventName: "AgentStarted", now: now, parameters: [:])
    }

    /// - Parameter reason: Why the agent stopped, e.g. `shutdown`.
    public func agentStopped(now: Date, reason: String) -> CloudTrailRecord {
        record(eventName: "AgentStopped", now: now, parameters: ["reason": .string(reason)])
    }

    /// `EventsDropped`: how many records a full spool dropped (policy `drop_oldest`), and from when to when.
    ///
    /// - Parameter sequence: Distinguishes this run's drop records from each other.
    public func eventsDropped(now: Date, count: Int, firstEventTime: String?, lastEventTime: String?, reason: String, sequence: Int)
        -> CloudTrailRecord
    {
        var parameters: [String: JSONValue] = ["count": .integer(Int64(count)), "reason": .string(reason)]
        if let firstEventTime { parameters["firstEventTime"] = .string(firstEventTime) }
        if let lastEventTime { parameters["lastEventTime"] = .string(lastEventTime) }
        var record = record(eventName: "EventsDropped", now: now, parameters: parameters, sequence: sequence)
        record.errorCode = "EventsDropped"
        record.errorMessage = "\(count) records were dropped (\(reason))"
        return record
    }

    /// A tailed log file changed in a way no rotation explains: `LogTruncated` (it shrank or was
    /// rewritten), `LogRemoved` (deleted), or `LogGap` (the file the agent was reading when it
    /// stopped is in no rotation any more: its lines after that point were never read). Wiping
    /// auth.log is what an intruder does.
    public func logFileTampered(eventName: String, path: String, details: [String: JSONValue], now: Date, sequence: Int) -> CloudTrailRecord {
        var parameters = details
        parameters["path"] = .string(path)
        var record = record(eventName: eventName, now: now, parameters: parameters, sequence: sequence)
        record.errorCode = eventName
        record.errorMessage =
            switch eventName {
            case "LogRemoved": "\(path) was deleted"
            case "LogGap": "the file of \(path) the agent was reading is in no rotation any more; the lines it held after the last one read are lost"
            default: "\(path) shrank or was rewritten without a rotation"
            }
        return record
    }

    /// `JournalTruncated`: a journal file shrank while the agent was reading it (SIGBUS on its
    /// mapping). What was read since the last commit is read again from the reopened journal; what
    /// the file lost cannot be. Like a wiped auth.log, a truncated journal is worth a record.
    public func journalTruncated(lastCursor: String?, faults: Int, now: Date, sequence: Int) -> CloudTrailRecord {
        var parameters: [String: JSONValue] = ["faults": .integer(Int64(faults))]
        if let lastCursor { parameters["lastCommittedCursor"] = .string(lastCursor) }
        var record = record(eventName: "JournalTruncated", now: now, parameters: parameters, sequence: sequence)
        record.errorCode = "JournalTruncated"
        record.errorMessage = "a journal file shrank while it was being read; entries in the part removed could not be read"
        return record
    }

    /// `Heartbeat`, every `--heartbeat-interval-ms`: the agent's counters, spool depth and oldest
    /// record's age, so the collector knows each host's health from the trail itself (and a host
    /// whose heartbeats stop is silent).
    ///
    /// - Parameter sequence: This run's heartbeat count (its event ID's position).
    public func heartbeat(now: Date, sequence: Int, intervalSeconds: Int64, details: [String: JSONValue]) -> CloudTrailRecord {
        var parameters = details
        parameters["intervalSeconds"] = .integer(intervalSeconds)
        parameters["sequence"] = .integer(Int64(sequence))
        var record = record(eventName: Self.heartbeatEventName, now: now, parameters: parameters, sequence: sequence)
        record.readOnly = true
        return record
    }

    /// `SpoolRecovered`: what start-up found damaged in the spool and repaired.
    public func spoolRecovered(now: Date, details: [String: JSONValue]) -> CloudTrailRecord {
        record(eventName: "SpoolRecovered", now: now, parameters: details)
    }

    /// `JournalGap`: the journal no longer holds the entry the saved cursor names (vacuumed or
    /// rotated away while the agent was down), so entries between it and the oldest one left may
    /// never have been read. Reading goes on from the oldest entry.
    ///
    /// The event ID derives from the lost cursor, so a run that crashes before it moves on and
    /// reports the same gap again stores it once.
    public func journalGap(lostCursor: String, lostSince: String?, resumedAt: String?, now: Date) -> CloudTrailRecord {
        var parameters: [String: JSONValue] = ["lostCursor": .string(lostCursor)]
        if let lostSince { parameters["lastReadEventTime"] = .string(lostSince) }
        if let resumedAt { parameters["oldestAvailableEventTime"] = .string(resumedAt) }
        var record = record(eventName: "JournalGap", now: now, parameters: parameters, position: "journal-gap;cursor=\(lostCursor)")
        record.errorCode = "JournalGap"
        record.errorMessage =
            "the journal no longer holds the last entry read; entries logged after it and removed before they were read are missing"
        return record
    }

    /// - Parameter position: A stable position for the event ID instead of this run's (for a record
    ///   that any run would write the same).
    func record(eventName: String, now: Date, parameters: [String: JSONValue], sequence: Int? = nil, position: String? = nil) -> CloudTrailRecord {
        let runKey = "boot=\(host.bootID ?? "-");pid=\(process.pid);started=\(Int64(runStarted.timeIntervalSince1970 * 1_000_000))"
        var requestParameters = parameters
        requestParameters["version"] = .string(version)
        requestParameters["configHash"] = .string(configurationHash)
        let eventID = EventID.derive(
            machineID: host.machineID, source: "agent",
            position: position ?? ("\(runKey);event=\(eventName)" + (sequence.map { ";seq=\($0)" } ?? "")))
        var resources: [RecordResource]?
        if let hostname = host.hostname {
            resources = [RecordResource(arn: "arn:hosttrail:host:::host/\(hostname)", accountId: nil, type: RecordResource.hostType)]
        }
        return CloudTrailRecord(
            userIdentity: UserIdentity(
                type: UserIdentity.linuxUser, principalId: String(process.uid), userName: process.userName ?? String(process.uid)),
            eventTime: TrailTime.format(now),
            eventSource: Self.eventSource,
            eventName: eventName,
            sourceIPAddress: "localhost",
            userAgent: "hosttrail-agent/\(version)",
            requestParameters: .object(requestParameters),
            responseElements: .null,
            additionalEventData: ["host": host.jsonValue, "process": ["pid": .integer(Int64(process.pid))]],
            requestID: eventID,
            eventID: eventID,
            readOnly: false,
            resources: resources,
            eventType: "AwsServiceEvent",
            managementEvent: true,
            eventCategory: "Management"
        )
    }
}
