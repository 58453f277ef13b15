// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// The CloudTrail API (JSON 1.1, `POST /`, `X-Amz-Target`) over an ``EventStore``.
///
/// `LookupEvents` follows CloudTrail's contract (attribute keys, time range, `MaxResults` 1–50,
/// newest first, an opaque `NextToken` that only works with the query it came from) and goes
/// beyond it: several lookup attributes at once (ANDed) and the `Host` and `SourceIPAddress` keys.
public struct CloudTrailAPI: Sendable {
    /// The target prefix botocore sends.
    public static let targetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

    let store: any EventStore
    let configuration: CollectorConfiguration
    /// The archive's ledger, for `ListPublicKeys`; `nil` with the archive off.
    let archive: (any ArchiveLedger)?
    /// The rules' status, for HostTrail's `ListRules`, `ListActionJobs` and `RetryActionJob`.
    let rules: RuleStatusBoard?
    /// Host responses, for HostTrail's `ListResponses` and `RevertResponse`.
    let responses: ResponseDesk?
    /// Hosts' certificate expiries, for `ListHosts`.
    let certificates: HostCertificates?

    init(
        store: any EventStore, configuration: CollectorConfiguration, archive: (any ArchiveLedger)? = nil, rules: RuleStatusBoard? = nil,
        responses: ResponseDesk? = nil, certificates: HostCertificates? = nil
    ) {
        self.responses = responses
        self.certificates = certificates
        self.store = store
        self.configuration = configuration
        self.archive = archive
        self.rules = rules
    }

    /// Handles one call; the result is the JSON body for a 200, errors are ``CloudTrailAPIError``.
    ///
    /// - Parameter scope: What the caller may read (``LookupScope``): its access key's
    ///   restrictions, or its certificate's own host.
    public func handle(target: String?, body: Data, scope: LookupScope = .fleet) async throws -> Data {
        guard let target, target.hasPrefix(Self.targetPrefix) else {
            throw CloudTrailAPIError(
                type: "UnknownOperationException",
                message: "X-Amz-Target must be \(Self.targetPrefix)<Operation>, got \(target.map { "\"\($0)\"" } ?? "nothing")")
        }
        let operation = target.dropFirst(Self.targetPrefix.count)
        switch operation {
        case "LookupEvents":
            let request: LookupEventsRequest
            do {
                request = try JSONDecoder().decode(LookupEventsRequest.self, from: body.isEmpty ? Data("{}".utf8) : body)
            } catch {
                throw CloudTrailAPIError(
                    type: "SerializationException", message: "the LookupEvents request is malformed: \(RecordBinder.describe(error))")
            }
            return try Self.encoder.encode(try await lookupEvents(request, scope: scope))
        case "DescribeTrails":
            return try JSONSerialization.data(withJSONObject: ["trailList": [trail]], options: [.sortedKeys, .withoutEscapingSlashes])
        case "GetTrailStatus":
            return try JSONSerialization.data(withJSONObject: ["IsLogging": true], options: [.sortedKeys, .withoutEscapingSlashes])
        case "ListPublicKeys":
            return try await listPublicKeys(body: body)
        case "ListInsightsMetricData":
            return try await listInsightsMetricData(body: body, scope: scope)
        case "ListRules", "ListActionJobs", "RetryActionJob":
            return try await rulesOperation(String(operation), body: body, scope: scope)
        case "ListResponses", "RevertResponse":
            return try await responsesOperation(String(operation), body: body, scope: scope)
        case "ListHosts":
            return try await listHosts(scope: scope)
        default:
            throw CloudTrailAPIError(type: "UnknownOperationException", message: "operation \(operation) is not supported by HostTrail")
        }
    }

    var trail: [String: Any] {
        var trail: [String: Any] = [
            "Name": configuration.trailName, "TrailARN": configuration.trailARN, "HomeRegion": configuration.region,
            "IsMultiRegionTrail": false, "IncludeGlobalServiceEvents": false, "LogFileValidationEnabled": configuration.archive,
            "HasCustomEventSelectors": false, "HasInsightSelectors": configuration.insights, "IsOrganizationTrail": false,
        ]
        if configuration.archive {
            trail["S3BucketName"] = configuration.s3Bucket
            if !configuration.s3Prefix.isEmpty { trail["S3KeyPrefix"] = configuration.s3Prefix }
        }
        return trail
    }

    /// `ListPublicKeys`: the digest signing keys valid at some time in `[StartTime, EndTime]`
    /// (both default to now), `Value` the base64 of the PKCS#1 DER, `Fingerprint` its MD5.
    func listPublicKeys(body: Data) async throws -> Data {
        let request: JSONValue
        do {
            request = try JSONValue.parse(body.isEmpty ? Data("{}".utf8) : body)
        } catch {
            throw CloudTrailAPIError(type: "SerializationException", message: "the ListPublicKeys request is not JSON: \(error)")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let start = try Self.timestamp(request, "StartTime") ?? now
        let end = try Self.timestamp(request, "EndTime") ?? now
        guard start <= end else { throw CloudTrailAPIError.invalidTimeRange("StartTime must not be after EndTime") }
        let keys = try await archive?.publicKeys(start: start, end: end) ?? []
        let list: [JSONValue] = keys.map { key in
            var members: [String: JSONValue] = [
                "Value": .string(key.der.base64EncodedString()), "Fingerprint": .string(key.fingerprint),
                "ValidityStartTime": .integer(key.validFrom),
            ]
            if let until = key.validUntil { members["ValidityEndTime"] = .integer(until) }
            return .object(members)
        }
        return Data(JSONValue.object(["PublicKeyList": .array(list)]).serialized())
    }

    /// A request's timestamp member `name` (botocore sends epoch seconds); `nil` when absent.
    static func timestamp(_ request: JSONValue, _ name: String) throws -> Int64? {
        switch request.objectValue?[name] {
        case nil, .null?: return nil
        case .integer(let seconds)? where TrailTime.isRepresentable(epochSeconds: Double(seconds)): return seconds
        case .number(let seconds)? where TrailTime.isRepresentable(epochSeconds: seconds): return Int64(seconds.rounded(.down))
        default: throw CloudTrailAPIError(type: "SerializationException", message: "\(name) must be a timestamp (epoch seconds)")
        }
    }

    /// `LookupEvents`.
    public func lookupEvents(_ request: LookupEventsRequest, scope: LookupScope = .fleet) async throws -> LookupEventsResponse {
        let limit = request.maxResults ?? 50
        guard (1...50).contains(limit) else {
            throw CloudTrailAPIError.invalidMaxResults("MaxResults must be between 1 and 50, got \(limit)")
        }
        if let start = request.startTime, let end = request.endTime, start > end {
            throw CloudTrailAPIError.invalidTimeRange("StartTime must not be after EndTime")
        }
        var insights = false
        if let category = request.eventCategory {
            guard category == "insight" else {
                throw CloudTrailAPIError.invalidEventCategory("EventCategory must be \"insight\", got \"\(category)\"")
            }
            insights = true
        }
        let filters = request.lookupAttributes ?? []
        for filter in filters {
            guard let key = LookupAttributeKey(rawValue: filter.attributeKey) else {
                throw CloudTrailAPIError.invalidLookupAttributes(
                    "AttributeKey \"\(filter.attributeKey)\" is not one of \(LookupAttributeKey.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard (1...2000).contains(filter.attributeValue.count) else {
                throw CloudTrailAPIError.invalidLookupAttributes("AttributeValue for \(key.rawValue) must be 1 to 2000 characters")
            }
            if IdentifierText.containsControlCharacter(filter.attributeValue) {
                // No stored name holds one (ingest refuses them), and a NUL would end the bound string early.
                throw CloudTrailAPIError.invalidLookupAttributes("AttributeValue for \(key.rawValue) must not hold control characters")
            }
            if key == .readOnly && !["true", "false"].contains(filter.attributeValue) {
                throw CloudTrailAPIError.invalidLookupAttributes("AttributeValue for ReadOnly must be \"true\" or \"false\"")
            }
        }
        let fingerprint = Self.fingerprint(request)
        var after: EventQuery.Cursor?
        if let token = request.nextToken {
            guard let cursor = PageToken(encoded: token), cursor.query == fingerprint else {
                throw CloudTrailAPIError.invalidNextToken("NextToken is invalid or belongs to a different query; resend the same parameters with it")
            }
            after = EventQuery.Cursor(time: cursor.time, eventID: cursor.eventID, host: cursor.host)
        }
        let query = EventQuery(
            filters: filters,
            startTime: request.startTime.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) },
            endTime: request.endTime.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) + 999 },
            insights: insights, limit: limit, after: after, hosts: scope.hosts, eventSources: scope.eventSources)
        let page = try await store.lookup(query)
        let events = try page.records.map { row in
            let record = try CloudTrailRecord.decode(from: Data(row.json.utf8))
            return LookupEvent(record: record, canonicalJSON: row.json)
        }
        var nextToken: String?
        if page.hasMore, let last = page.records.last {
            nextToken = PageToken(query: fingerprint, time: last.eventTime, eventID: last.eventID, host: last.host).encoded
        }
        return LookupEventsResponse(events: events, nextToken: nextToken)
    }

    /// What a page token is bound to: everything but the token and the page size.
    static func fingerprint(_ request: LookupEventsRequest) -> String {
        var parts = (request.lookupAttributes ?? []).map { "\($0.attributeKey)=\($0.attributeValue)" }.sorted()
        parts.append("start=\(request.startTime.map { String(Int64($0.timeIntervalSince1970)) } ?? "-")")
        parts.append("end=\(request.endTime.map { String(Int64($0.timeIntervalSince1970)) } ?? "-")")
        parts.append("category=\(request.eventCategory ?? "-")")
        return String(parts.joined(separator: "\u{1F}").hashValueStable, radix: 16)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// `NextToken`: where the previous page ended, and which query it belongs to.
struct PageToken: Codable {
    var query: String
    var time: Int64
    var eventID: String
    /// Absent from tokens issued before the host was part of the page order.
    var host: String?

    init(query: String, time: Int64, eventID: String, host: String?) {
        self.query = query
        self.time = time
        self.eventID = eventID
        self.host = host
    }

    init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let token = try? JSONDecoder().decode(PageToken.self, from: data) else {
            return nil
        }
        self = token
    }

    var encoded: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension String {
    /// FNV-1a over the UTF-8 bytes: stable across runs, unlike `hashValue`.
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
