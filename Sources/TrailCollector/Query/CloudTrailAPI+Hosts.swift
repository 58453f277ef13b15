// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// HostTrail's `ListHosts` beside the CloudTrail operations, for readers of the whole fleet: every
/// host that sent records, when it last did, its newest event time, records received, its newest
/// heartbeat (what `hosttrail status` shows) and its certificate's expiry as last seen.
extension CloudTrailAPI {
    func listHosts(scope: LookupScope) async throws -> Data {
        guard scope == .fleet else { throw CloudTrailAPIError(type: "AccessDeniedException", message: "ListHosts needs a reader of the whole fleet") }
        let hosts = try await store.hostStatuses()
        let rows: [JSONValue] = hosts.map { status in
            var row: [String: JSONValue] = [
                "Host": .string(status.host), "FirstReceived": .string(TrailTime.formatEpochSeconds(status.firstReceivedAt / 1000)),
                "LastReceived": .string(TrailTime.formatEpochSeconds(status.lastReceivedAt / 1000)),
                "NewestEventTime": .string(TrailTime.formatEpochSeconds(status.newestEventTime / 1000)),
                "RecordsReceived": .integer(status.recordsReceived),
            ]
            if let json = status.heartbeat, let record = try? JSONValue.parse(Array(json.utf8)) {
                row["LastHeartbeat"] = [
                    "Time": record["eventTime"] ?? .null, "Version": record["requestParameters"]?["version"] ?? .null,
                    "IntervalSeconds": record["requestParameters"]?["intervalSeconds"] ?? .null,
                    "Spool": record["requestParameters"]?["spool"] ?? .null,
                ]
            }
            if let expiry = certificates?.expiry(of: status.host) {
                row["CertificateNotAfter"] = .string(TrailTime.formatEpochSeconds(Int64(expiry.timeIntervalSince1970)))
            }
            return .object(row)
        }
        return Data(JSONValue.object(["Hosts": .array(rows)]).serialized())
    }
}
