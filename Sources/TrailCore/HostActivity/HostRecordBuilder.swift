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
    public var host: HostIdentity
    /// Hide the user names of failed logins for accounts that do not exist (default: yes).
    public var hideUnverifiedUserNames: Bool
    private let hostJSON: JSONValue

    public init(host: HostIdentity, hideUnverifiedUserNames: Bool = true) {
        self.host = host
        self.hideUnverifiedUserNames = hideUnverifiedUserNames
        hostJSON = host.jsonValue
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

    public func record(
        for activity: HostActivity, time: Date, process: (identifier: String, pid: Int?), message: String, origin: Origin
    ) -> CloudTrailRecord {
        let eventID = EventID.derive(machineID: host.machineID, source: origin.source, position: origin.position)
        var userName = activity.userName
        if activity.userNameIsUnverified && hideUnverifiedUserNames { userName = HostActivity.hiddenUserName }
        var sessionContext: SessionContext?
        if let invoker = activity.invokedBy {
            sessionContext = SessionContext(sessionIssuer: SessionIssuer(type: UserIdentity.linuxUser, userName: invoker))
        }
        let identity = UserIdentity(
            type: UserIdentity.linuxUser, principalId: activity.uid.map(String.init), userName: userName, sessionContext: sessionContext)

        var processJSON: [String: JSONValue] = ["identifier": .string(process.identifier)]
        if let pid = process.pid { processJSON["pid"] = .integer(Int64(pid)) }
        var originJSON = origin.details
        originJSON["source"] = .string(origin.source)
        var parameters = activity.requestParameters
        if activity.userNameIsUnverified && hideUnverifiedUserNames { parameters["userName"] = nil }

        var resources: [RecordResource]?
        if let hostname = host.hostname {
            resources = [RecordResource(arn: "arn:hosttrail:host:::host/\(hostname)", accountId: nil, type: RecordResource.hostType)]
        }
        let sourceIP = activity.sourceIPAddress ?? (activity.eventType == "AwsServiceEvent" ? activity.eventSource : "localhost")
        return CloudTrailRecord(
            userIdentity: identity,
            eventTime: TrailTime.format(time),
            eventSource: activity.eventSource,
            eventName: activity.eventName,
            sourceIPAddress: sourceIP,
            userAgent: process.identifier,
            errorCode: activity.errorCode,
            errorMessage: activity.errorMessage,
            requestParameters: parameters.isEmpty ? .null : .object(parameters),
            responseElements: .null,
            additionalEventData: [
                "host": hostJSON, "process": .object(processJSON), "origin": .object(originJSON),
                "message": .string(activity.userNameIsUnverified && hideUnverifiedUserNames ? "(hidden: names an account that does not exist)" : message),
            ],
            requestID: eventID,
            eventID: eventID,
            readOnly: activity.readOnly,
            resources: resources,
            eventType: activity.eventType,
            managementEvent: true,
            eventCategory: "Management"
        )
    }
}
