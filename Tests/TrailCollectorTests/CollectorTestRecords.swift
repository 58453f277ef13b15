// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

@testable import TrailCollector

enum CollectorTestRecords {
    /// A record as an agent sends it.
    static func record(
        name: String = "DeleteInvoice", source: String = "billing.example.com", user: String = "alice", host: String? = "web-01",
        time: String = "2026-11-24T10:00:00Z", index: Int = 0
    ) -> CloudTrailRecord {
        CloudTrailRecord(
            userIdentity: UserIdentity(type: UserIdentity.linuxUser, principalId: "1000", userName: user),
            eventTime: time, eventSource: source, eventName: name, sourceIPAddress: "localhost",
            additionalEventData: host.map { ["host": ["hostname": .string($0)]] },
            eventID: EventID.derive(machineID: "m", source: "test", position: "\(name)-\(user)-\(time)-\(index)"),
            readOnly: false)
    }

    static let binder = RecordBinder(accountID: "123456789012", region: "eu-west-1", trailARN: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t")

    static func stored(_ record: CloudTrailRecord, host: String = "web-01") throws -> StoredRecord {
        try binder.bind(record, index: 0, host: host)
    }
}
