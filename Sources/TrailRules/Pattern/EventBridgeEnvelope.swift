// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A record as EventBridge delivers a CloudTrail event: `{"version":"0","id","detail-type",
/// "source","account","time","region","resources":[],"detail":<the record>}`, so that patterns
/// written for EventBridge match HostTrail's records unchanged.
public enum EventBridgeEnvelope {
    /// The `detail-type` EventBridge gives a CloudTrail record of `eventType`.
    public static func detailType(eventType: String?) -> String {
        switch eventType {
        case "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail"
        case "AwsServiceEvent": "AWS Service Event via CloudTrail"
        case "AwsConsoleAction": "AWS Console Action via CloudTrail"
        case "AwsCloudTrailInsight": "AWS Insight via CloudTrail"
        default: "AWS API Call via CloudTrail"
        }
    }

    /// `aws.` and the event source's first label, as EventBridge names CloudTrail's sources
    /// (`iam.amazonaws.com` → `aws.iam`, `sshd.linux` → `aws.sshd`); an Insight's is its subject's.
    public static func source(of record: CloudTrailRecord) -> String {
        "aws." + (record.listedEventSource?.split(separator: ".").first.map(String.init) ?? "cloudtrail")
    }

    /// The envelope of `record` (its canonical JSON already parsed, `json`); `id` is its event ID.
    public static func envelope(of record: CloudTrailRecord, json: JSONValue) -> JSONValue {
        [
            "version": "0",
            "id": .string(record.eventID),
            "detail-type": .string(detailType(eventType: record.eventType)),
            "source": .string(source(of: record)),
            "account": record.recipientAccountId.map(JSONValue.string) ?? .null,
            "time": .string(record.eventTime),
            "region": record.awsRegion.map(JSONValue.string) ?? .null,
            "resources": .array((record.resources ?? []).compactMap { $0.arn.map(JSONValue.string) }),
            "detail": json,
        ]
    }
}

extension EventBridgeEnvelope {
    /// The envelope of a record given as its JSON (what the store keeps), as
    /// ``envelope(of:json:)`` makes it from the record.
    public static func envelope(ofRecordJSON json: JSONValue) -> JSONValue {
        let insight = json["insightDetails"]
        let source = json["eventSource"]?.stringValue ?? insight?["eventSource"]?.stringValue
        return [
            "version": "0",
            "id": json["eventID"] ?? .null,
            "detail-type": .string(detailType(eventType: json["eventType"]?.stringValue)),
            "source": .string("aws." + (source?.split(separator: ".").first.map(String.init) ?? "cloudtrail")),
            "account": json["recipientAccountId"] ?? .null,
            "time": json["eventTime"] ?? .null,
            "region": json["awsRegion"] ?? .null,
            "resources": .array((json["resources"]?.arrayValue ?? []).compactMap { $0["ARN"] }),
            "detail": json,
        ]
    }
}
