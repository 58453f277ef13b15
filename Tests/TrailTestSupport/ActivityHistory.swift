// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// Past activity for a collector to learn from, as an agent would have delivered it: records
/// with event times minutes or days ago, in `{"Records": [...]}` batches for `POST /v1/records`.
public enum ActivityHistory {
    /// Failed password logins of `user` on `host` from `address` (what sshd's `Failed password`
    /// becomes): `perMinute(minute)` in each minute of `minutes` (minutes since the epoch).
    public static func failedLogins(
        host: String, user: String, address: String, minutes: Range<Int64>, perMinute: (Int64) -> Int
    ) throws -> [CloudTrailRecord] {
        minutes.flatMap { minute in
            (0..<perMinute(minute)).map { index in
                let time = TrailTime.formatEpochSeconds(minute * 60 + Int64(index * 60 / max(1, perMinute(minute))))
                return CloudTrailRecord(
                    userIdentity: UserIdentity(type: UserIdentity.linuxUser, userName: user),
                    eventTime: time, eventSource: "sshd.linux", eventName: "Login", sourceIPAddress: address, userAgent: "history",
                    errorCode: "AuthFailure", errorMessage: "Failed password", requestParameters: ["port": 22],
                    additionalEventData: ["host": ["hostname": .string(host)]],
                    eventID: EventID.derive(machineID: "history-\(host)", source: "history", position: "\(minute);\(index)"),
                    readOnly: false)
            }
        }
    }

    /// Read-only application calls on `host`: `perMinute` in each minute of `minutes`.
    public static func applicationCalls(host: String, minutes: Range<Int64>, perMinute: Int) -> [CloudTrailRecord] {
        minutes.flatMap { minute in
            (0..<perMinute).map { index in
                CloudTrailRecord(
                    userIdentity: UserIdentity(type: UserIdentity.linuxUser, principalId: "1000", userName: "app"),
                    eventTime: TrailTime.formatEpochSeconds(minute * 60 + Int64(index * 60 / perMinute)), eventSource: "shop.example.com",
                    eventName: "GetItem", sourceIPAddress: "localhost", userAgent: "history",
                    additionalEventData: ["host": ["hostname": .string(host)]],
                    eventID: EventID.derive(machineID: "history-\(host)", source: "calls", position: "\(minute);\(index)"), readOnly: true)
            }
        }
    }

    /// `records` as request bodies of at most `batchSize` records each.
    public static func batches(_ records: [CloudTrailRecord], batchSize: Int = 500) throws -> [Data] {
        try stride(from: 0, to: records.count, by: batchSize).map { start in
            let json = try records[start..<min(start + batchSize, records.count)].map { String(decoding: try $0.canonicalJSON(), as: UTF8.self) }
            return Data(#"{"Records":[\#(json.joined(separator: ","))]}"#.utf8)
        }
    }
}
