// SPDX-License-Identifier: Apache-2.0

import Foundation

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
    public let host: HostIdentity
    /// Hide the user names of failed logins for accounts that do not exist (default: yes).
    public var hideUnverifiedUserNames: Bool
    private let hostJSON: JSONValue
    private let resources: [RecordResource]?
    /// The host's and resources' canonical JSON, written once.
    private let hostBytes: [UInt8]
    private let resourcesBytes: [UInt8]?

    public init(host: HostIdentity, hideUnverifiedUserNames: Bool = true) {
        self.host = host
        self.hideUnverifiedUserNames = hideUnverifiedUserNames
        hostJSON = host.jsonValue
        resources = host.hostname.map { [RecordResource(arn: "arn:hosttrail:host:::host/\($0)", accountId: nil, type: RecordResource.hostType)] }
        hostBytes = hostJSON.serialized()
        resourcesBytes = resources.map { JSONValue.array($0.map(\.jsonValue)).serialized() }
    }

    /// Where a record came from: the source kind and its stable position (for the event ID).
    public struct Origin: Sendable, Hashable {
        /// `file:/var/log/auth.log`, `journal`.
        public var source: String
        /// Stable within the source: a file identity and line offset, a journal cursor.
        public var position: String
        /// Shown to investigators in `additionalEventData.origin`.
        public var details: [String: JSONValue]

        public init(source: String, position: String, details: [String: JSONValue] = [:]) {
            self.source = source
            self.position = position
            self.details = details
        }
    }

    /// What a record of `activity` says, decided once for both writers below.
    private struct Resolved {
        var eventID: String
        var userName: String?
        var hidesUserName: Bool
        var parameters: [String: JSONValue]
        var sourceIP: String
        var originMembers: [(key: String, value: JSONValue)]
    }

    private func resolve(_ activity: HostActivity, origin: Origin) -> Resolved {
        let hides = activity.userNameIsUnverified && hideUnverifiedUserNames
        var parameters = activity.requestParameters
        if hides { parameters["userName"] = nil }
        var originMembers = origin.details.filter { $0.key != "source" }.map { (key: $0.key, value: $0.value) }
        originMembers.append((key: "source", value: .string(origin.source)))
        return Resolved(
            eventID: EventID.derive(machineID: host.machineID, source: origin.source, position: origin.position),
            userName: hides ? HostActivity.hiddenUserName : activity.userName, hidesUserName: hides, parameters: parameters,
            sourceIP: activity.sourceIPAddress ?? (activity.eventType == "AwsServiceEvent" ? activity.eventSource : "localhost"),
            originMembers: originMembers)
    }

    static let hiddenMessage = "(hidden: names an account that does not exist)"

    public func record(
        for activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: Origin
    ) -> CloudTrailRecord {
        let resolved = resolve(activity, origin: origin)
        var sessionContext: SessionContext?
        if let invoker = activity.invokedBy {
            sessionContext = SessionContext(sessionIssuer: SessionIssuer(type: UserIdentity.linuxUser, userName: invoker))
        }
        let identity = UserIdentity(
            type: UserIdentity.linuxUser, principalId: activity.uid.map(String.init), userName: resolved.userName, sessionContext: sessionContext)

        var processJSON: [String: JSONValue] = ["identifier": .string(process.identifier)]
        if let pid = process.pid { processJSON["pid"] = .integer(Int64(pid)) }
        let originJSON = Dictionary(resolved.originMembers, uniquingKeysWith: { $1 })
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
            responseElements: .null,
            additionalEventData: [
                "host": hostJSON, "process": .object(processJSON), "origin": .object(originJSON),
                "message": .string(resolved.hidesUserName ? Self.hiddenMessage : message),
            ],
            requestID: resolved.eventID,
            eventID: resolved.eventID,
            readOnly: activity.readOnly,
            resources: resources,
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
        let resolved = resolve(activity, origin: origin)
        func key(_ name: StaticString) {
            out.append(34)
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(34)
            out.append(58)
        }
        func string(_ name: StaticString, _ value: String) {
            key(name)
            JSONValue.writeString(value, to: &out)
            out.append(44)
        }
        // Members in `String.<` order, as the canonical writer sorts them (a test compares the two).
        out.append(123)
        key("additionalEventData")
        out.append(123)
        key("host")
        out.append(contentsOf: hostBytes)
        out.append(44)
        string("message", resolved.hidesUserName ? Self.hiddenMessage : message)
        key("origin")
        var originMembers = resolved.originMembers
        JSONValue.writeObject(&originMembers, to: &out)
        out.append(44)
        key("process")
        out.append(123)
        key("identifier")
        JSONValue.writeString(process.identifier, to: &out)
        if let pid = process.pid {
            out.append(44)
            key("pid")
            JSONValue.integer(Int64(pid)).write(to: &out)
        }
        out.append(contentsOf: [125, 125, 44])
        if let errorCode = activity.errorCode { string("errorCode", errorCode) }
        if let errorMessage = activity.errorMessage { string("errorMessage", errorMessage) }
        string("eventCategory", "Management")
        string("eventID", resolved.eventID)
        string("eventName", activity.eventName)
        string("eventSource", activity.eventSource)
        string("eventTime", TrailTime.format(time))
        string("eventType", activity.eventType)
        string("eventVersion", CloudTrailRecord.currentEventVersion)
        key("managementEvent")
        JSONValue.bool(true).write(to: &out)
        out.append(44)
        key("readOnly")
        JSONValue.bool(activity.readOnly).write(to: &out)
        out.append(44)
        string("requestID", resolved.eventID)
        key("requestParameters")
        if resolved.parameters.isEmpty {
            JSONValue.null.write(to: &out)
        } else {
            var parameters = Array(resolved.parameters)
            JSONValue.writeObject(&parameters, to: &out)
        }
        out.append(44)
        if let resourcesBytes {
            key("resources")
            out.append(contentsOf: resourcesBytes)
            out.append(44)
        }
        key("responseElements")
        JSONValue.null.write(to: &out)
        out.append(44)
        string("sourceIPAddress", resolved.sourceIP)
        string("userAgent", process.identifier)
        key("userIdentity")
        out.append(123)
        if let uid = activity.uid { string("principalId", String(uid)) }
        if let invoker = activity.invokedBy {
            key("sessionContext")
            out.append(123)
            key("sessionIssuer")
            out.append(123)
            string("type", UserIdentity.linuxUser)
            key("userName")
            JSONValue.writeString(invoker, to: &out)
            out.append(contentsOf: [125, 125, 44])
        }
        key("type")
        JSONValue.writeString(UserIdentity.linuxUser, to: &out)
        if let userName = resolved.userName {
            out.append(44)
            key("userName")
            JSONValue.writeString(userName, to: &out)
        }
        out.append(contentsOf: [125, 125])
    }
}
