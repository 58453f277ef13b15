// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Turns a ``HostActivity`` into a CloudTrail record for this host.
///
/// Conventions (documented in `docs/ARCHITECTURE.md`):
/// - `sourceIPAddress` is the remote address for SSH, `localhost` for what a person did at the host
///   (sudo, su, account changes), and the event source itself (`systemd.linux`, `cron.linux`) for
///   what a service did on its own (`eventType` `AwsServiceEvent`), as CloudTrail names the AWS
///   service that acted.
/// - `userIdentity` is `LinuxUser` with the account; for sudo and su it is the target account and
///   the invoking one is `sessionContext.sessionIssuer`.
/// - `additionalEventData` carries the host, the logging process, where the line came from and the
///   original message, so an investigator can always read what the log said.
public struct HostRecordBuilder: Sendable {
    public var host: HostIdentity { shared.host }
    /// Hide the user names of failed logins for accounts that do not exist (default: yes).
    public var hideUnverifiedUserNames: Bool
    /// Names the accounts a line gives only the uid of.
    public var accountNames: AccountNames
    /// What every record of this host repeats, made once. A class, so that the copy of the
    /// builder each ``HostRecord`` holds is one reference, not a retain of every member.
    private let shared: Shared

    private final class Shared: Sendable {
        let host: HostIdentity
        let hostJSON: JSONValue
        let resources: [RecordResource]?
        /// The host's and resources' canonical JSON, written once.
        let hostBytes: [UInt8]
        let resourcesBytes: [UInt8]?

        init(host: HostIdentity) {
            self.host = host
            hostJSON = host.jsonValue
            resources = host.hostname.map { [RecordResource(arn: "arn:hosttrail:host:::host/\($0)", accountId: nil, type: RecordResource.hostType)] }
            hostBytes = hostJSON.serialized()
            resourcesBytes = resources.map { JSONValue.array($0.map(\.jsonValue)).serialized() }
        }
    }

    public init(host: HostIdentity, hideUnverifiedUserNames: Bool = true, accountNames: AccountNames = .none) {
        shared = Shared(host: host)
        self.hideUnverifiedUserNames = hideUnverifiedUserNames
        self.accountNames = accountNames
    }

    /// Where a record came from: the source kind and its stable position (for the event ID).
    public struct Origin: Sendable, Hashable {
        /// `file:/var/log/auth.log`, `journal`.
        public var source: String { didSet { eventID = nil } }
        /// Stable within the source: a file identity and line offset, a journal cursor.
        public var position: String { didSet { eventID = nil } }
        /// Shown to investigators in `additionalEventData.origin`.
        public var details: [String: JSONValue] {
            get {
                switch storage {
                case .members(let members): members
                case .fileLine(let path, let offset): ["path": .string(path), "offset": .integer(Int64(offset))]
                }
            }
            set { storage = .members(newValue) }
        }
        /// A tailed line's details are kept as they are, not as a dictionary: one per line was a
        /// good part of the tail path's cost, and the writer knows their order.
        enum Storage: Sendable {
            case members([String: JSONValue])
            case fileLine(path: String, offset: Int)
        }
        var storage: Storage
        /// The event ID, when the builder that made the origin derived it already
        /// (``HostRecordBuilder/fileLines(source:path:positionPrefix:)``, with its host's machine
        /// ID): a function of `source` and `position`, so not compared, and dropped when either
        /// changes.
        var eventID: String?

        public init(source: String, position: String, details: [String: JSONValue] = [:]) {
            self.source = source
            self.position = position
            storage = .members(details)
        }

        /// A line of a tailed file: `details` are its `path` and byte `offset`.
        public static func fileLine(source: String, position: String, path: String, offset: Int) -> Origin {
            var origin = Origin(source: source, position: position)
            origin.storage = .fileLine(path: path, offset: offset)
            return origin
        }

        /// The origins of one file's lines: what their event IDs share is hashed once.
        public struct FileLines: Sendable {
            let source: String
            let path: String
            let positionPrefix: String
            let eventIDPrefix: EventID.Prefix

            /// The origin of the line at byte `offset`: position `positionPrefix` + offset.
            public func origin(offset: Int) -> Origin {
                let suffix = String(offset)
                var origin = Origin.fileLine(source: source, position: positionPrefix + suffix, path: path, offset: offset)
                origin.eventID = EventID.derive(eventIDPrefix, positionSuffix: suffix)
                return origin
            }
        }

        public static func == (left: Origin, right: Origin) -> Bool {
            left.source == right.source && left.position == right.position && left.details == right.details
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(source)
            hasher.combine(position)
            hasher.combine(details)
        }

        /// `{"offset":…,"path":…,"source":…}` and the like: the details with `source` set to the
        /// origin's own, members sorted.
        func writeJSON(to out: inout [UInt8]) {
            switch storage {
            case .fileLine(let path, let offset):
                // "offset" < "path" < "source", as the canonical writer sorts them.
                out.append(contentsOf: #"{"offset":"#.utf8)
                JSONValue.integer(Int64(offset)).write(to: &out)
                out.append(contentsOf: #","path":"#.utf8)
                JSONValue.writeString(path, to: &out)
                out.append(contentsOf: #","source":"#.utf8)
                JSONValue.writeString(source, to: &out)
                out.append(UInt8(ascii: "}"))
            case .members(let members):
                var sorted = members.filter { $0.key != "source" }.map { (key: $0.key, value: $0.value) }
                sorted.append((key: "source", value: .string(source)))
                JSONValue.writeObject(&sorted, to: &out)
            }
        }

        /// The details as the record's `additionalEventData.origin` object.
        var jsonMembers: [String: JSONValue] {
            var members = details
            members["source"] = .string(source)
            return members
        }
    }

    /// The origins of the lines of the file at `path` read as `source`, whose positions start
    /// with `positionPrefix` (the file's identity).
    public func fileLines(source: String, path: String, positionPrefix: String) -> Origin.FileLines {
        Origin.FileLines(
            source: source, path: path, positionPrefix: positionPrefix,
            eventIDPrefix: EventID.prefix(machineID: host.machineID, source: source, positionPrefix: positionPrefix))
    }

    /// The most UTF-8 bytes of log text (the message, each string in `requestParameters`) a record
    /// keeps; longer text is cut and the record says `additionalEventData.truncated: true`.
    ///
    /// A line may be 1 MiB (``LogFileFollower``) and JSON escaping can make each control byte six,
    /// the message and a parameter (sudo's command) can both hold the whole line: unbounded, such a
    /// record outgrew the largest spool frame (``SpoolFrame/maxPayload``) and was lost as a
    /// corrupt frame. Cut at 32 KiB, a record stays far below it (and below the collector's limits).
    public static let maxTextBytes = 32 * 1024

    /// What a record of `activity` says, decided once for both writers below.
    private struct Resolved {
        var eventID: String
        var userName: String?
        /// Who asked (sudo, su): the name the line gives, or its uid's.
        var invoker: String?
        var hidesUserName: Bool
        var message: String
        var parameters: [String: JSONValue]
        var sourceIP: String
        /// Some text was cut to ``maxTextBytes``.
        var truncated: Bool
    }

    /// `text` cut to at most `maxBytes` UTF-8 bytes at a character boundary, or `nil` when it fits.
    static func cut(_ text: String, maxBytes: Int) -> String? {
        guard text.utf8.count > maxBytes else { return nil }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: maxBytes)
        // Back off to the start of a scalar (never inside a multi-byte sequence).
        while end > text.utf8.startIndex, text.utf8[end] & 0xC0 == 0x80 { end = text.utf8.index(before: end) }
        return String(text.utf8[..<end]) ?? String(decoding: text.utf8[..<end], as: UTF8.self)
    }

    /// `value` with every string in it cut to ``maxTextBytes``; `truncated` is set when one was.
    static func bounded(_ value: JSONValue, truncated: inout Bool) -> JSONValue {
        switch value {
        case .string(let text):
            guard let cut = cut(text, maxBytes: maxTextBytes) else { return value }
            truncated = true
            return .string(cut)
        case .array(let elements): return .array(elements.map { bounded($0, truncated: &truncated) })
        case .object(let members): return .object(members.mapValues { bounded($0, truncated: &truncated) })
        case .null, .bool, .integer, .number: return value
        }
    }

    private func resolve(_ activity: HostActivity, message: String, origin: Origin) -> Resolved {
        let hides = activity.userNameIsUnverified && hideUnverifiedUserNames
        var truncated = false
        var parameters = activity.requestParameters
        if hides { parameters["userName"] = nil }
        // Only log text can be long; the common case costs a length check per string.
        let mayBeLong: (JSONValue) -> Bool = { value in
            switch value {
            case .string(let text): text.utf8.count > Self.maxTextBytes
            case .array, .object: true
            case .null, .bool, .integer, .number: false
            }
        }
        if parameters.values.contains(where: mayBeLong) {
            parameters = parameters.mapValues { Self.bounded($0, truncated: &truncated) }
        }
        var shownMessage = hides ? Self.hidingName(in: message, at: activity.unverifiedNameRange) : message
        if let cut = Self.cut(shownMessage, maxBytes: Self.maxTextBytes) {
            shownMessage = cut
            truncated = true
        }
        // Names and addresses are what records are looked up and listed by: a control byte a log
        // line carried (a name typed at a login prompt) is written as `\ooo`, never raw.
        let userName = hides ? HostActivity.hiddenUserName : activity.userName ?? activity.uid.flatMap(accountNames.name(of:))
        let invoker = activity.invokedBy ?? activity.invokerUID.flatMap(accountNames.name(of:))
        let sourceIP = activity.sourceIPAddress ?? (activity.eventType == "AwsServiceEvent" ? activity.eventSource : "localhost")
        return Resolved(
            eventID: origin.eventID ?? EventID.derive(machineID: host.machineID, source: origin.source, position: origin.position),
            userName: userName.map(IdentifierText.escapingControlCharacters), invoker: invoker.map(IdentifierText.escapingControlCharacters),
            hidesUserName: hides, message: shownMessage, parameters: parameters, sourceIP: IdentifierText.escapingControlCharacters(sourceIP),
            truncated: truncated)
    }

    static let hiddenMessage = "(hidden: names an account that does not exist)"

    /// `message` with the bytes in `range` (an unverified account name) replaced by
    /// ``HostActivity/hiddenUserName``: the rest of what the program wrote stays. The whole message
    /// is hidden when the parser did not say where the name is.
    static func hidingName(in message: String, at range: Range<Int>?) -> String {
        let bytes = message.utf8
        guard let range, range.lowerBound >= 0, range.upperBound <= bytes.count else { return hiddenMessage }
        // The parser's offsets border ASCII separators: both are character boundaries.
        let start = bytes.index(bytes.startIndex, offsetBy: range.lowerBound)
        let end = bytes.index(bytes.startIndex, offsetBy: range.upperBound)
        var shown = String(message[..<start])
        shown.append(HostActivity.hiddenUserName)
        shown.append(contentsOf: message[end...])
        return shown
    }

    public func record(
        for activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: Origin
    ) -> CloudTrailRecord {
        let resolved = resolve(activity, message: message, origin: origin)
        var sessionContext: SessionContext?
        if resolved.invoker != nil || activity.invokerUID != nil {
            sessionContext = SessionContext(
                sessionIssuer: SessionIssuer(
                    type: UserIdentity.linuxUser, principalId: activity.invokerUID.map(String.init), userName: resolved.invoker))
        }
        let identity = UserIdentity(
            type: UserIdentity.linuxUser, principalId: activity.uid.map(String.init), userName: resolved.userName, sessionContext: sessionContext)

        var processJSON: [String: JSONValue] = ["identifier": .string(process.identifier)]
        if let pid = process.pid { processJSON["pid"] = .integer(Int64(pid)) }
        var additional: [String: JSONValue] = [
            "host": shared.hostJSON, "process": .object(processJSON), "origin": .object(origin.jsonMembers), "message": .string(resolved.message),
        ]
        if resolved.truncated { additional["truncated"] = .bool(true) }
        return CloudTrailRecord(
            userIdentity: identity,
            eventTime: TrailTime.format(time),
            eventSource: activity.eventSource,
            eventName: activity.eventName,
            sourceIPAddress: resolved.sourceIP,
            userAgent: process.identifier,
            errorCode: activity.errorCode,
            errorMessage: activity.errorMessage,
            requestParameters: resolved.parameters.isEmpty ? .null : .object(resolved.parameters),
            responseElements: activity.responseElements.map(JSONValue.object) ?? .null,
            additionalEventData: .object(additional),
            requestID: resolved.eventID,
            eventID: resolved.eventID,
            readOnly: activity.readOnly,
            resources: shared.resources,
            eventType: activity.eventType,
            managementEvent: true,
            eventCategory: "Management"
        )
    }

    /// The canonical JSON of ``record(for:time:process:message:origin:)``, byte for byte, written
    /// straight from the activity: no record, no dictionaries for its fixed members, no sort but
    /// of the few free-form ones. Every tailed line and journal entry goes through here.
    public func canonicalJSON(
        for activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: Origin
    ) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(768 + message.utf8.count)
        writeCanonicalJSON(for: activity, time: time, process: process, message: message, origin: origin, to: &out)
        return Data(out)
    }

    /// Appends what ``canonicalJSON(for:time:process:message:origin:)`` returns to `out` (a spool
    /// frame being written, so the record is written once, in place).
    public func writeCanonicalJSON(
        for activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: Origin,
        to out: inout [UInt8]
    ) {
        let resolved = resolve(activity, message: message, origin: origin)
        // Inside a member's value, fixed text is appended as one run each: an append costs about
        // as much whether it copies 2 bytes or 40.
        func raw(_ text: StaticString) { JSONValue.writeRaw(text, to: &out) }
        func string(_ value: String) { JSONValue.writeString(value, to: &out) }
        // Members in ``CloudTrailMember`` order (a test compares the bytes with the model's).
        var record = CanonicalRecordWriter()
        record.key(.additionalEventData, to: &out)
        raw(#"{"host":"#)
        out.append(contentsOf: shared.hostBytes)
        raw(#","message":"#)
        string(resolved.message)
        raw(#","origin":"#)
        origin.writeJSON(to: &out)
        raw(#","process":{"identifier":"#)
        string(process.identifier)
        if let pid = process.pid {
            raw(#","pid":"#)
            JSONValue.integer(Int64(pid)).write(to: &out)
        }
        raw("}")
        if resolved.truncated { raw(#","truncated":true"#) }
        raw("}")
        if let code = activity.errorCode { record.string(.errorCode, code, to: &out) }
        if let message = activity.errorMessage { record.string(.errorMessage, message, to: &out) }
        record.raw(.eventCategory, #""Management""#, to: &out)
        record.string(.eventID, resolved.eventID, to: &out)
        record.string(.eventName, activity.eventName, to: &out)
        record.string(.eventSource, activity.eventSource, to: &out)
        record.key(.eventTime, to: &out)
        out.append(UInt8(ascii: "\""))
        TrailTime.appendFormatted(time, to: &out)  // digits, dashes and colons: nothing to escape
        out.append(UInt8(ascii: "\""))
        record.string(.eventType, activity.eventType, to: &out)
        record.string(.eventVersion, CloudTrailRecord.currentEventVersion, to: &out)
        record.raw(.managementEvent, "true", to: &out)
        record.raw(.readOnly, activity.readOnly ? "true" : "false", to: &out)
        record.string(.requestID, resolved.eventID, to: &out)
        record.key(.requestParameters, to: &out)
        if resolved.parameters.isEmpty {
            raw("null")
        } else {
            var parameters = Array(resolved.parameters)
            JSONValue.writeObject(&parameters, to: &out)
        }
        if let resourcesBytes = shared.resourcesBytes {
            record.key(.resources, to: &out)
            out.append(contentsOf: resourcesBytes)
        }
        record.key(.responseElements, to: &out)
        if let response = activity.responseElements {
            JSONValue.object(response).write(to: &out)
        } else {
            raw("null")
        }
        record.string(.sourceIPAddress, resolved.sourceIP, to: &out)
        record.string(.userAgent, process.identifier, to: &out)
        record.key(.userIdentity, to: &out)
        raw("{")
        if let uid = activity.uid {
            raw(#""principalId":"#)
            string(String(uid))
            raw(",")
        }
        if resolved.invoker != nil || activity.invokerUID != nil {
            raw(#""sessionContext":{"sessionIssuer":{"#)
            if let invokerUID = activity.invokerUID {
                raw(#""principalId":"#)
                string(String(invokerUID))
                raw(",")
            }
            raw(#""type":"#)
            string(UserIdentity.linuxUser)
            if let invoker = resolved.invoker {
                raw(#","userName":"#)
                string(invoker)
            }
            raw("}},")
        }
        raw(#""type":"#)
        string(UserIdentity.linuxUser)
        if let userName = resolved.userName {
            raw(#","userName":"#)
            string(userName)
        }
        raw("}")
        record.end(to: &out)
    }
}
