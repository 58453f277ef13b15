// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Turns a validated ``ApplicationEvent`` into a record, with the identity the kernel reported.
public struct ApplicationRecordBuilder: Sendable {
    /// Event sources reserved to the agent's own records: no application may write them.
    public static let reservedEventSourceSuffixes = [".linux", ".hosttrail"]

    public var host: HostIdentity {
        didSet { (hostJSON, hostBytes, hostResourceBytes) = Self.hostParts(host) }
    }
    /// `host.jsonValue`, built once: every record carries it.
    private var hostJSON: JSONValue
    /// Its canonical JSON, and that of the host resource (when the host has a name).
    private var hostBytes: [UInt8]
    private var hostResourceBytes: [UInt8]?

    /// Who may write which event sources; unclaimed names are open.
    public var claims: EventSourceClaims

    public init(host: HostIdentity, claims: EventSourceClaims = EventSourceClaims()) {
        self.host = host
        self.claims = claims
        (hostJSON, hostBytes, hostResourceBytes) = Self.hostParts(host)
    }

    private static func hostParts(_ host: HostIdentity) -> (JSONValue, [UInt8], [UInt8]?) {
        let json = host.jsonValue
        return (json, json.serialized(), host.hostname.map { hostResource($0).jsonValue.serialized() })
    }

    /// The resource every record names: its host. Account and region are the collector's; it
    /// fills them in when it binds the record to the host.
    private static func hostResource(_ hostname: String) -> RecordResource {
        RecordResource(arn: "arn:hosttrail:host:::host/\(hostname)", accountId: nil, type: RecordResource.hostType)
    }

    /// What all events of one request share, worked out once per request.
    public struct RequestContext: Sendable {
        var peer: PeerCredentials
        var fallbackRequestID: String
        var nowText: String
        /// Canonical JSON of `process`, and of the identity of an event that claims no end user,
        /// written member by member (in sorted order): a request of one event pays for no dictionary.
        var processBytes: [UInt8] = []
        var identityBytes: [UInt8] = []

        /// - Parameter fallbackRequestID: The request ID of events that bring none; the agent makes
        ///   one per request, so the event ID is fixed the moment the event is accepted.
        public init(peer: PeerCredentials, fallbackRequestID: String, now: Date) {
            self.peer = peer
            self.fallbackRequestID = fallbackRequestID
            nowText = TrailTime.format(now)
            var process: [(String, JSONValue)] = []
            if let group = peer.controlGroup { process.append(("cgroup", .string(group.path))) }
            if let executable = peer.executable { process.append(("exe", .string(executable))) }
            process.append(("gid", .integer(Int64(peer.gid))))
            process.append(("pid", .integer(Int64(peer.pid))))
            process.append(("uid", .integer(Int64(peer.uid))))
            if let unit = peer.controlGroup?.unit { process.append(("unit", .string(unit))) }
            processBytes = Self.object(process)
            // `ApplicationRecordBuilder.identity(peer:endUser: nil)`'s members.
            identityBytes = Self.object([
                ("principalId", .string(String(peer.uid))), ("type", .string(UserIdentity.linuxUser)),
                ("userName", .string(peer.userName ?? String(peer.uid))),
            ])
        }

        /// `members` (in sorted order) as a canonical JSON object.
        private static func object(_ members: [(String, JSONValue)]) -> [UInt8] {
            var out: [UInt8] = [123]
            for (index, (name, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
            return out
        }

        /// The peer as `additionalEventData.process`, for the record model.
        var process: JSONValue {
            var process: [String: JSONValue] = [
                "pid": .integer(Int64(peer.pid)), "uid": .integer(Int64(peer.uid)), "gid": .integer(Int64(peer.gid)),
            ]
            if let executable = peer.executable { process["exe"] = .string(executable) }
            if let group = peer.controlGroup {
                process["cgroup"] = .string(group.path)
                if let unit = group.unit { process["unit"] = .string(unit) }
            }
            return .object(process)
        }
    }

    /// What ``accept(_:index:context:)`` settled for one event.
    public struct AcceptedEvent: Sendable {
        public var eventSource: String
        public var requestID: String
        public var eventID: String
    }

    /// Checks that the request's peer may write `event` and works out its source and IDs.
    ///
    /// - Throws: ``EventValidationError`` with code `ReservedEventSource` for `*.linux` and
    ///   `*.hosttrail`, or the refusal of an event source claimed by another program.
    public func accept(_ event: ApplicationEvent, index: Int, context: RequestContext) throws -> AcceptedEvent {
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
        return AcceptedEvent(eventSource: eventSource, requestID: requestID, eventID: eventID)
    }

    static func identity(peer: PeerCredentials, endUser: String?) -> UserIdentity {
        UserIdentity(
            type: UserIdentity.linuxUser,
            principalId: String(peer.uid),
            userName: peer.userName ?? String(peer.uid),
            sessionContext: endUser.map { SessionContext(sourceIdentity: $0) }
        )
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
        let accepted = try accept(event, index: index, context: context)
        var additional = event.additionalEventData?.objectValue ?? [:]
        additional["host"] = hostJSON
        additional["process"] = context.process

        var resources = event.resources ?? []
        if let hostname = host.hostname { resources.append(Self.hostResource(hostname)) }

        return CloudTrailRecord(
            userIdentity: Self.identity(peer: context.peer, endUser: event.claimedEndUser),
            eventTime: event.eventTime.map(TrailTime.format) ?? context.nowText,
            eventSource: accepted.eventSource,
            eventName: event.eventName,
            sourceIPAddress: event.sourceIPAddress ?? "localhost",
            userAgent: event.userAgent,
            errorCode: event.errorCode,
            errorMessage: event.errorMessage,
            requestParameters: event.requestParameters ?? .null,
            responseElements: event.responseElements ?? .null,
            additionalEventData: .object(additional),
            requestID: accepted.requestID,
            eventID: accepted.eventID,
            readOnly: event.readOnly,
            resources: resources.isEmpty ? nil : resources,
            eventType: "AwsApiCall",
            managementEvent: (event.eventCategory ?? "Management") == "Management",
            eventCategory: event.eventCategory ?? "Management"
        )
    }

    /// Appends the canonical JSON of ``record(for:index:context:)`` for an event ``accept(_:index:context:)``
    /// let through, byte for byte (a test compares the two), to `out` (a spool frame being written):
    /// no record and no dictionaries for the fixed members, and the host, process and identity
    /// serialized once a request rather than once an event.
    public func writeCanonicalJSON(for event: ApplicationEvent, _ accepted: AcceptedEvent, context: RequestContext, to out: inout [UInt8]) {
        // Inside a member's value, fixed text is appended as one run each (see HostRecordBuilder).
        func raw(_ text: StaticString) { JSONValue.writeRaw(text, to: &out) }
        // Members in ``CloudTrailMember`` order (a test compares the bytes with the model's).
        var record = CanonicalRecordWriter()
        record.key(.additionalEventData, to: &out)
        writeAdditionalEventData(event.additionalEventData?.objectValue, context: context, to: &out)
        if let code = event.errorCode { record.string(.errorCode, code, to: &out) }
        if let message = event.errorMessage { record.string(.errorMessage, message, to: &out) }
        let category = event.eventCategory ?? "Management"
        record.string(.eventCategory, category, to: &out)
        record.string(.eventID, accepted.eventID, to: &out)
        record.string(.eventName, event.eventName, to: &out)
        record.string(.eventSource, accepted.eventSource, to: &out)
        record.string(.eventTime, event.eventTime.map(TrailTime.format) ?? context.nowText, to: &out)
        record.raw(.eventType, #""AwsApiCall""#, to: &out)
        record.string(.eventVersion, CloudTrailRecord.currentEventVersion, to: &out)
        record.raw(.managementEvent, category == "Management" ? "true" : "false", to: &out)
        if let readOnly = event.readOnly { record.raw(.readOnly, readOnly ? "true" : "false", to: &out) }
        record.string(.requestID, accepted.requestID, to: &out)
        record.key(.requestParameters, to: &out)
        (event.requestParameters ?? .null).write(to: &out)
        let resources = event.resources ?? []
        if !resources.isEmpty || hostResourceBytes != nil {
            record.key(.resources, to: &out)
            raw("[")
            for (index, resource) in resources.enumerated() {
                if index > 0 { raw(",") }
                resource.jsonValue.write(to: &out)
            }
            if let hostResourceBytes {
                if !resources.isEmpty { raw(",") }
                out.append(contentsOf: hostResourceBytes)
            }
            raw("]")
        }
        record.key(.responseElements, to: &out)
        (event.responseElements ?? .null).write(to: &out)
        record.string(.sourceIPAddress, event.sourceIPAddress ?? "localhost", to: &out)
        if let userAgent = event.userAgent { record.string(.userAgent, userAgent, to: &out) }
        record.key(.userIdentity, to: &out)
        if let endUser = event.claimedEndUser {
            Self.identity(peer: context.peer, endUser: endUser).jsonValue.write(to: &out)
        } else {
            out.append(contentsOf: context.identityBytes)
        }
        record.end(to: &out)
    }

    /// The event's own `additionalEventData` members with the agent's `host` and `process` (which
    /// win over members of the same name), sorted.
    private func writeAdditionalEventData(_ members: [String: JSONValue]?, context: RequestContext, to out: inout [UInt8]) {
        var pairs = (members ?? [:]).filter { $0.key != "host" && $0.key != "process" }.map { (key: $0.key, value: $0.value) }
        pairs.sort { $0.key < $1.key }
        let fixed: [(key: String, bytes: [UInt8])] = [("host", hostBytes), ("process", context.processBytes)]
        var nextFixed = 0
        var first = true
        func separate() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
        }
        func writeFixed(before name: String?) {
            while nextFixed < fixed.count, name.map({ fixed[nextFixed].key < $0 }) ?? true {
                separate()
                JSONValue.writeString(fixed[nextFixed].key, to: &out)
                out.append(UInt8(ascii: ":"))
                out.append(contentsOf: fixed[nextFixed].bytes)
                nextFixed += 1
            }
        }
        out.append(UInt8(ascii: "{"))
        for pair in pairs {
            writeFixed(before: pair.key)
            separate()
            JSONValue.writeString(pair.key, to: &out)
            out.append(UInt8(ascii: ":"))
            pair.value.write(to: &out)
        }
        writeFixed(before: nil)
        out.append(UInt8(ascii: "}"))
    }

    /// The event source of an application that names none: its executable's name under `.local`.
    static func defaultEventSource(executable: String?) -> String {
        let base = executable.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
        let cleaned = String(base.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        return cleaned.isEmpty ? "application.local" : "\(cleaned).local"
    }
}
