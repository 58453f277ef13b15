// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// The records the collector writes itself, in `collector.hosttrail`: what retention deleted, an
/// event ID two records share, a revoked host's attempt to deliver. One builder, so each is made
/// one way and bound like any record (the fleet's account, region, trail ARN, host resource).
///
/// Retention's and collisions' records are under the collector's own host
/// (``RecordBinder/collectorHost``), which no certificate may use: no host can pre-empt them
/// under a derivable ID, and only fleet readers see them.
struct CollectorRecords: Sendable {
    let binder: RecordBinder

    /// The event source of every record here; no host may write it.
    static let eventSource = RecordBinder.collectorEventSource

    /// `DeleteExpiredEvents`: one batch retention deleted, `retentionDays` old and older.
    func expiredEventsDeleted(count: Int, oldest: Int64, newest: Int64, retentionDays: Int, now: Date) throws -> StoredRecord {
        let eventID = RandomUUID.make()
        let record = CloudTrailRecord(
            userIdentity: UserIdentity(type: "AWSService", principalId: "hosttrail-collector", userName: "hosttrail-collector"),
            eventTime: TrailTime.format(now), eventSource: Self.eventSource, eventName: "DeleteExpiredEvents",
            sourceIPAddress: Self.eventSource, userAgent: "hosttrail-collector",
            requestParameters: [
                "retentionDays": .integer(Int64(retentionDays)), "deletedEvents": .integer(Int64(count)),
                "oldestEventTime": .string(TrailTime.formatEpochSeconds(oldest / 1000)),
                "newestEventTime": .string(TrailTime.formatEpochSeconds(newest / 1000)),
            ],
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        return try binder.bind(record, index: 0, host: RecordBinder.collectorHost)
    }

    /// `EventIDCollision` (errorCode `EventIDCollision` or `EventIDReused`), naming the host whose
    /// record arrived second. Its event ID derives from the collision (host, event ID, the
    /// content's hash), so the same record sent again raises no second alert.
    func eventIDCollision(_ collision: EventIDCollision, now: Date = Date()) throws -> StoredRecord {
        let eventID = EventID.derive(
            machineID: "collector", source: "event-id-collision", position: "\(collision.host);\(collision.eventID);\(collision.contentHash)")
        var parameters: [String: JSONValue] = [
            "host": .string(collision.host), "eventID": .string(collision.eventID), "contentSha256": .string(collision.contentHash),
        ]
        if !collision.otherHosts.isEmpty { parameters["otherHosts"] = .array(collision.otherHosts.map(JSONValue.string)) }
        let message =
            collision.otherContent
            ? "\(collision.host) sent a record under an event ID it had stored with other content; the first one is kept"
            : "\(collision.host) stored a record under an event ID \(collision.otherHosts.joined(separator: ", ")) stored too; both are kept"
        let record = CloudTrailRecord(
            userIdentity: UserIdentity(type: "HostCertificate", userName: IdentifierText.escapingControlCharacters(collision.host)),
            eventTime: TrailTime.format(now), eventSource: Self.eventSource, eventName: "EventIDCollision",
            sourceIPAddress: Self.eventSource, userAgent: "hosttrail-collector",
            errorCode: collision.otherContent ? "EventIDReused" : "EventIDCollision", errorMessage: message,
            requestParameters: .object(parameters), responseElements: .null,
            additionalEventData: ["host": ["hostname": .string(RecordBinder.collectorHost)]],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        return try binder.bind(record, index: 0, host: RecordBinder.collectorHost)
    }

    /// `DeliverRecords` refused (`HostRevoked`): a revoked host tried to deliver, recorded under
    /// its own name so the attempt shows in the trail it can no longer write to.
    func revokedDelivery(by certificate: ClientCertificate, from address: String, now: Date = Date()) throws -> StoredRecord {
        let eventID = RandomUUID.make()
        let host = certificate.commonName
        let record = CloudTrailRecord(
            userIdentity: UserIdentity(type: "HostCertificate", principalId: certificate.serialNumber, userName: host),
            eventTime: TrailTime.format(now), eventSource: Self.eventSource, eventName: "DeliverRecords",
            sourceIPAddress: address, userAgent: "hosttrail-agent",
            errorCode: "HostRevoked", errorMessage: "the host's certificate is on the collector's revocation list",
            additionalEventData: [
                "host": ["hostname": .string(host)],
                "certificate": ["commonName": .string(host), "serialNumber": .string(certificate.serialNumber)],
            ],
            requestID: eventID, eventID: eventID, readOnly: false, eventType: "AwsServiceEvent", managementEvent: true, eventCategory: "Management")
        return try binder.bind(record, index: 0, host: host)
    }
}
