// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

extension CloudTrailAPI {
    /// `ListInsightsMetricData`, in CloudTrail's shape: the count of an `(EventSource, EventName)`'s
    /// write calls (`ApiCallRateInsight`) or of its calls failing with `ErrorCode`
    /// (`ApiErrorRateInsight`) in each `Period` (60, 300 or 3600 s; default 3600) from `StartTime`
    /// (default 90 days ago) to `EndTime` (default now), zeros filled in unless `DataType` is
    /// `NonZeroData`; at most `MaxResults` (default and limit 21,600) values a page. A caller
    /// confined to some hosts counts theirs only. Beyond CloudTrail, `Host` or `Username` gives the
    /// series of a host's or a user's Insights, and `HostSilent` with `Host` the count of all its records.
    func listInsightsMetricData(body: Data, scope: LookupScope) async throws -> Data {
        let request: JSONValue
        do {
            request = try JSONValue.parse(body.isEmpty ? Data("{}".utf8) : body)
        } catch {
            throw CloudTrailAPIError(type: "SerializationException", message: "the ListInsightsMetricData request is not JSON: \(error)")
        }
        func text(_ name: String, required: Bool) throws -> String? {
            guard let value = request[name], value != .null else {
                if required { throw CloudTrailAPIError(type: "InvalidParameterException", message: "\(name) is required") }
                return nil
            }
            guard let string = value.stringValue, (1...2000).contains(string.count), !IdentifierText.containsControlCharacter(string) else {
                throw CloudTrailAPIError(type: "InvalidParameterException", message: "\(name) must be a string of 1 to 2000 visible characters")
            }
            return string
        }
        func integer(_ name: String) throws -> Int64? {
            guard let value = request[name], value != .null else { return nil }
            guard let number = value.integerValue else {
                throw CloudTrailAPIError(type: "InvalidParameterException", message: "\(name) must be an integer")
            }
            return number
        }
        let source = try text("EventSource", required: true)!
        let name = try text("EventName", required: true)!
        let type = try text("InsightType", required: true)!
        let errorCode = try text("ErrorCode", required: false)
        guard ["ApiCallRateInsight", "ApiErrorRateInsight", "HostSilent"].contains(type) else {
            throw CloudTrailAPIError(
                type: "InvalidParameterException", message: "InsightType must be ApiCallRateInsight, ApiErrorRateInsight or HostSilent")
        }
        guard (type == "ApiErrorRateInsight") == (errorCode != nil) else {
            throw CloudTrailAPIError(type: "InvalidParameterException", message: "ErrorCode is required with ApiErrorRateInsight, and only with it")
        }
        let period = try integer("Period") ?? 3600
        guard [60, 300, 3600].contains(period) else {
            throw CloudTrailAPIError(type: "InvalidParameterException", message: "Period must be 60, 300 or 3600")
        }
        let dataType = try text("DataType", required: false) ?? "FillWithZeros"
        guard ["FillWithZeros", "NonZeroData"].contains(dataType) else {
            throw CloudTrailAPIError(type: "InvalidParameterException", message: "DataType must be FillWithZeros or NonZeroData")
        }
        let maxResults = try integer("MaxResults") ?? 21_600
        guard (1...21_600).contains(maxResults) else {
            throw CloudTrailAPIError(type: "InvalidParameterException", message: "MaxResults must be between 1 and 21600")
        }
        let now = Int64(Date().timeIntervalSince1970)
        var start = (try Self.timestamp(request, "StartTime") ?? now - 90 * 86_400) / period * period
        let end = try Self.timestamp(request, "EndTime") ?? now
        guard start <= end else { throw CloudTrailAPIError.invalidTimeRange("StartTime must not be after EndTime") }
        if let token = try text("NextToken", required: false) {
            guard let next = Int64(token), next >= start, next <= end, next % period == 0 else {
                throw CloudTrailAPIError.invalidNextToken("NextToken is invalid or belongs to a different query; resend the same parameters with it")
            }
            start = next
        }
        // HostTrail's own: the series of one host's or one user's Insights.
        let host = try text("Host", required: false)
        let user = try text("Username", required: false)
        guard host == nil || user == nil else {
            throw CloudTrailAPIError(type: "InvalidParameterException", message: "give Host or Username, not both")
        }
        var response: [String: JSONValue] = ["EventSource": .string(source), "EventName": .string(name), "InsightType": .string(type)]
        if let errorCode { response["ErrorCode"] = .string(errorCode) }
        if let host { response["Host"] = .string(host) }
        if let user { response["Username"] = .string(user) }
        // A reader confined to other event sources learns nothing of this one.
        let readable = scope.eventSources.map { $0.contains(source) } ?? true
        let keyScope: InsightKey.Scope = host.map { .host($0) } ?? user.map { .user($0) } ?? .fleet
        var key = InsightKey(scope: keyScope, eventSource: source, eventName: name, errorCode: errorCode)
        if type == "HostSilent" {
            // A host's every record: its series is what the silence interrupted.
            guard let host else { throw CloudTrailAPIError(type: "InvalidParameterException", message: "HostSilent needs Host") }
            key = .activity(of: host)
        }
        let counts =
            readable
            ? try await store.insightSeries(of: key, from: start * 1000, to: (end + 1) * 1000, periodSeconds: period, hosts: scope.hosts) : []
        var points: [(start: Int64, count: Int)] = []
        if dataType == "NonZeroData" {
            points = counts
        } else {
            let byStart = Dictionary(uniqueKeysWithValues: counts.map { ($0.start, $0.count) })
            // One past the page, then stop: a range from year 1 is 10¹⁰ periods, not a loop to run out.
            for periodStart in stride(from: start, through: end, by: Int(period)) {
                points.append((periodStart, byStart[periodStart] ?? 0))
                if points.count > maxResults { break }
            }
        }
        if points.count > maxResults {
            response["NextToken"] = .string(String(points[Int(maxResults)].start))
            points.removeLast(points.count - Int(maxResults))
        }
        response["Timestamps"] = .array(points.map { .integer($0.start) })
        response["Values"] = .array(points.map { .number(Double($0.count)) })
        return Data(JSONValue.object(response).serialized())
    }
}
