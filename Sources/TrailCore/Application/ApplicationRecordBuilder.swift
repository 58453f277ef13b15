// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Turns a validated ``ApplicationEvent`` into a record, with the identity the kernel reported.
public struct ApplicationRecordBuilder: Sendable {
    /// Event sources reserved to the agent's own records: no application may write them.
    public static let reservedEventSourceSuffixes = [".linux", ".hosttrail"]

    public var host: HostIdentity {
        didSet { hostJSON = host.jsonValue }
    }
    /// `host.jsonValue`, built once: every record carries it.
    private var hostJSON: JSONValue

    /// Who may write which event sources; unclaimed names are open.
    public var claims: EventSourceClaims

    public init(host: HostIdentity, claims: EventSourceClaims = EventSourceClaims()) {
        self.host = host
        self.claims = claims
        hostJSON = host.jsonValue
    }

    /// What all events of one request share, worked out once per request.
    public struct RequestContext: Sendable {
        var peer: PeerCredentials
        var fallbackRequestID: String
        var nowText: String
        var process: JSONValue

        /// - Parameter fallbackRequestID: The request ID of events that bring none; the agent makes
        ///   one per request, so the event ID is fixed the moment the event is accepted.
        public init(peer: PeerCredentials, fallbackRequestID: String, now: Date) {
            self.peer = peer
            self.fallbackRequestID = fallbackRequestID
            nowText = TrailTime.format(now)
            var process: [String: JSONValue] = [
                "pid": .integer(Int64(peer.pid)), "uid": .integer(Int64(peer.uid)), "gid": .integer(Int64(peer.gid)),
            ]
            if let executable = peer.executable { process["exe"] = .string(executable) }
            if let group = peer.controlGroup {
                process["cgroup"] = .string(group.path)
                if let unit = group.unit { process["unit"] = .string(unit) }
            }
            self.process = .object(process)
        }
    }

    /// Builds the records for the events of one request from `peer`, in order.
    ///
    /// - Throws: ``EventValidationError`` for the first event that cannot be recorded.
    public func records(
        for events: [ApplicationEvent], peer: PeerCredentials, fallbackRequestID: String, now: Date
    ) throws -> [CloudTrailRecord] {
        let context = RequestContext(peer: peer, fallbackRequestID: fallbackRequestID, now: now)
        return try events.enumerated().map { index, event in try record(for: event, index: index, context: context) }
    }

    /// Builds the record for `event`, the `index`-th event of a request from `peer`.
    ///
    /// - Parameters:
    ///   - fallbackRequestID: The request ID to use when the client gave none; the agent makes one
    ///     per request, so the event ID is fixed the moment the event is accepted.
    /// - Throws: ``EventValidationError`` with code `ReservedEventSource` for `*.linux` and `*.hosttrail`.
    public func record(
        for event: ApplicationEvent,
        index: Int,
        peer: PeerCredentials,
        fallbackRequestID: String,
        now: Date
    ) throws -> CloudTrailRecord {
        try record(for: event, index: index, context: RequestContext(peer: peer, fallbackRequestID: fallbackRequestID, now: now))
    }

    /// Builds the record for `event`, the `index`-th event of the request `context` describes.
    public func record(for event: ApplicationEvent, index: Int, context: RequestContext) throws -> CloudTrailRecord {
        let peer = context.peer
        let eventSource = event.eventSource ?? Self.defaultEventSource(executable: peer.executable)
        let lowered = eventSource.lowercased()
        if Self.reservedEventSourceSuffixes.contains(where: { lowered.hasSuffix($0) }) {
            throw EventValidationError(
                .reservedEventSource,
                "eventSource \(eventSource) is reserved to the HostTrail agent (*.linux and *.hosttrail)",
                index: index, field: "eventSource")
        }
        if let refusal = claims.refusal(eventSource: eventSource, peer: peer, index: index) { throw refusal }
        let requestID = event.requestID ?? context.fallbackRequestID
        let eventID = EventID.forApplicationRequest(
            machineID: host.machineID, uid: peer.uid, requestID: requestID, index: event.requestID == nil ? index : 0)

        var sessionContext: SessionContext?
        if let endUser = event.claimedEndUser {
            sessionContext = SessionContext(sourceIdentity: endUser)
        }
        let identity = UserIdentity(
            type: UserIdentity.linuxUser,
            principalId: String(peer.uid),
            userName: peer.userName ?? String(peer.uid),
            sessionContext: sessionContext
        )

        var additional = event.additionalEventData?.objectValue ?? [:]
        additional["host"] = hostJSON
        additional["process"] = context.process

        var resources = event.resources ?? []
        if let hostname = host.hostname {
            // Account and region are the collector's; it fills them in when it binds the record to the host.
            resources.append(RecordResource(arn: "arn:hosttrail:host:::host/\(hostname)", accountId: nil, type: RecordResource.hostType))
        }

        return CloudTrailRecord(
            userIdentity: identity,
            eventTime: event.eventTime.map(TrailTime.format) ?? context.nowText,
            eventSource: eventSource,
            eventName: event.eventName,
            sourceIPAddress: event.sourceIPAddress ?? "localhost",
            userAgent: event.userAgent,
            errorCode: event.errorCode,
            errorMessage: event.errorMessage,
            requestParameters: event.requestParameters ?? .null,
            responseElements: event.responseElements ?? .null,
            additionalEventData: .object(additional),
            requestID: requestID,
            eventID: eventID,
            readOnly: event.readOnly,
            resources: resources.isEmpty ? nil : resources,
            eventType: "AwsApiCall",
            managementEvent: (event.eventCategory ?? "Management") == "Management",
            eventCategory: event.eventCategory ?? "Management"
        )
    }

    /// The event source of an application that names none: its executable's name under `.local`.
    static func defaultEventSource(executable: String?) -> String {
        let base = executable.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
        let cleaned = String(base.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        return cleaned.isEmpty ? "application.local" : "\(cleaned).local"
    }
}
