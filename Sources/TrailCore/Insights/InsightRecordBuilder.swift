// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Writes an Insight decision as CloudTrail writes an Insight: a record with `eventType`
/// `AwsCloudTrailInsight`, `eventCategory` `Insight`, no `eventSource`, `eventName` or
/// `userIdentity` of its own, and `insightDetails` with the statistics and the top attributions.
/// What only HostTrail says (the scope, rise or drop, the hour-of-week slot and the tail
/// probability that decided it) is in `insightDetails.hostTrail`.
///
/// The event IDs derive from the key, the Insight's first minute and the state, and the shared
/// ID from the key and the first minute: a collector that decides the same Insight again after a
/// restart makes the same records, and the store keeps them once.
public struct InsightRecordBuilder: Sendable {
    /// The baseline's window (`baselineDuration`), in days.
    public var windowDays: Int

    public init(windowDays: Int) {
        self.windowDays = windowDays
    }

    /// The top values of one attribute, each with its average count a minute.
    public struct Attribution: Sendable, Hashable {
        public var attribute: String
        public var insight: [(value: String, average: Double)]
        public var baseline: [(value: String, average: Double)]

        public init(attribute: String, insight: [(value: String, average: Double)], baseline: [(value: String, average: Double)]) {
            self.attribute = attribute
            self.insight = insight
            self.baseline = baseline
        }

        public static func == (left: Self, right: Self) -> Bool {
            left.attribute == right.attribute && left.insight.elementsEqual(right.insight, by: ==)
                && left.baseline.elementsEqual(right.baseline, by: ==)
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(attribute) }
    }

    /// The attributes an Insight is attributed to: CloudTrail's three, then HostTrail's two.
    public static let attributes = ["userIdentityArn", "userAgent", "errorCode", "host", "sourceIPAddress"]
    /// Values listed per attribute, as CloudTrail: the five most frequent.
    public static let topValues = 5

    public func record(for decision: InsightDetector<InsightKey>.Decision, attributions: [Attribution]) -> CloudTrailRecord {
        let key = decision.key
        let shared = EventID.derive(machineID: "collector", source: "insight", position: "\(key);\(decision.startMinute)")
        let eventID = EventID.derive(
            machineID: "collector", source: "insight", position: "\(key);\(decision.startMinute);\(decision.state.rawValue)")
        // A Start is stamped at its first minute, an End at the close of its last.
        let minute = decision.state == .start ? decision.startMinute : decision.minute + 1
        var details: [String: JSONValue] = [
            "state": .string(decision.state.rawValue),
            "eventSource": .string(key.eventSource),
            "eventName": .string(key.eventName),
            "insightType": .string(key.insightType),
            "insightContext": [
                "statistics": [
                    "baseline": ["average": .number(Self.rounded(decision.baselineAverage))],
                    "insight": ["average": .number(Self.rounded(decision.insightAverage))],
                    "insightDuration": .integer(Int64(decision.durationMinutes)),
                    "baselineDuration": .integer(Int64(windowDays * 1440)),
                ],
                "attributions": .array(attributions.map(Self.json)),
            ],
            "hostTrail": .object(hostTrailDetails(decision)),
        ]
        if let errorCode = key.errorCode { details["errorCode"] = .string(errorCode) }
        return CloudTrailRecord(
            userIdentity: nil, eventTime: TrailTime.formatEpochSeconds(minute * 60), eventSource: nil, eventName: nil,
            requestParameters: nil, responseElements: nil, eventID: eventID, eventType: "AwsCloudTrailInsight", managementEvent: nil,
            sharedEventID: shared, eventCategory: "Insight", insightDetails: .object(details))
    }

    /// A first-seen finding as an Insight: a Start and an End in its minute (an Insight is a pair).
    public func records(for finding: FirstSeenDetector.Finding) -> [CloudTrailRecord] {
        let position =
            [finding.kind.rawValue, finding.user, finding.host, finding.value, finding.eventSource, finding.eventName]
            .joined(separator: "\u{0}") + ";\(finding.minute)"
        let shared = EventID.derive(machineID: "collector", source: "insight", position: position)
        return InsightDetector<InsightKey>.Decision.State.allCases.map { state in
            var details: [String: JSONValue] = [
                "state": .string(state.rawValue), "eventSource": .string(finding.eventSource), "eventName": .string(finding.eventName),
                "insightType": .string(finding.kind.rawValue),
                "insightContext": [
                    "statistics": [
                        "baseline": ["average": .number(0)], "insight": ["average": .number(1)], "insightDuration": 1,
                        "baselineDuration": .integer(Int64(windowDays * 1440)),
                    ],
                    "attributions": [],
                ],
                "hostTrail": [
                    "scope": "user", "userName": .string(finding.user), "host": .string(finding.host), "direction": "new",
                    "firstMinute": .string(TrailTime.formatEpochSeconds(finding.minute * 60)),
                    "lastMinute": .string(TrailTime.formatEpochSeconds(finding.minute * 60)),
                ],
            ]
            if !finding.value.isEmpty { details["hostTrail"] = Self.adding("value", .string(finding.value), to: details["hostTrail"]!) }
            return CloudTrailRecord(
                userIdentity: nil, eventTime: TrailTime.formatEpochSeconds((finding.minute + (state == .start ? 0 : 1)) * 60), eventSource: nil,
                eventName: nil, requestParameters: nil, responseElements: nil,
                eventID: EventID.derive(machineID: "collector", source: "insight", position: position + ";\(state.rawValue)"),
                eventType: "AwsCloudTrailInsight", managementEvent: nil, sharedEventID: shared, eventCategory: "Insight",
                insightDetails: .object(details))
        }
    }

    private static func adding(_ name: String, _ value: JSONValue, to object: JSONValue) -> JSONValue {
        var members = object.objectValue ?? [:]
        members[name] = value
        return .object(members)
    }

    private func hostTrailDetails(_ decision: InsightDetector<InsightKey>.Decision) -> [String: JSONValue] {
        var members: [String: JSONValue] = [
            "direction": .string(decision.direction.rawValue),
            "probability": .number(decision.probability),
            "firstMinute": .string(TrailTime.formatEpochSeconds(decision.startMinute * 60)),
            "lastMinute": .string(TrailTime.formatEpochSeconds(decision.minute * 60)),
            "hourOfWeekSlot": decision.slot.map { .integer(Int64($0)) } ?? .null,
        ]
        switch decision.key.scope {
        case .fleet: members["scope"] = "fleet"
        case .host(let host):
            members["scope"] = "host"
            members["host"] = .string(host)
        case .user(let user):
            members["scope"] = "user"
            members["userName"] = .string(user)
        }
        return members
    }

    private static func json(_ attribution: Attribution) -> JSONValue {
        func values(_ list: [(value: String, average: Double)]) -> JSONValue {
            .array(list.prefix(topValues).map { ["value": .string($0.value), "average": .number(rounded($0.average))] })
        }
        return ["attribute": .string(attribution.attribute), "insight": values(attribution.insight), "baseline": values(attribution.baseline)]
    }

    /// Averages to four decimals, as CloudTrail shows them.
    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}
