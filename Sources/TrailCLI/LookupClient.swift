// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import Foundation
import TrailCore

/// Calls the collector's CloudTrail API (`LookupEvents`) and follows `NextToken` across pages.
public struct LookupClient: Sendable {
    /// A failed call: the collector's CloudTrail error, another HTTP status, or a transport failure.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// SigV4 credentials, as any AWS SDK signs with.
    public struct Credentials: Sendable {
        public var accessKeyID: String
        public var secretAccessKey: String
        /// Any region: the collector takes every one.
        public var region: String

        public init(accessKeyID: String, secretAccessKey: String, region: String = "us-east-1") {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.region = region
        }

        /// Credentials as the AWS CLI finds them: the given values, else `AWS_ACCESS_KEY_ID`,
        /// `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`/`AWS_DEFAULT_REGION` (default us-east-1);
        /// `nil` without a key id.
        /// - Throws: ``Failure`` for a key id without its secret.
        public static func resolve(
            accessKeyID: String? = nil, secretAccessKey: String? = nil, region: String? = nil,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws -> Credentials? {
            guard let id = accessKeyID ?? environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else { return nil }
            guard let secret = secretAccessKey ?? environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw Failure(description: "an access key id needs its secret: --secret-access-key or AWS_SECRET_ACCESS_KEY")
            }
            return Credentials(
                accessKeyID: id, secretAccessKey: secret,
                region: region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1")
        }
    }

    let collectorURL: String
    let client: HTTPSClient
    let credentials: Credentials?

    /// - Parameter credentials: Sign each call with SigV4; `nil` relies on the client certificate in `tls`.
    public init(collectorURL: String, tls: HTTPSClient.Configuration, credentials: Credentials? = nil) throws {
        self.collectorURL = collectorURL.hasSuffix("/") ? collectorURL : collectorURL + "/"
        client = try HTTPSClient(configuration: tls)
        self.credentials = credentials
    }

    /// Fetches matching records, newest first: every page, or at most `maxResults` records.
    public func lookup(_ request: LookupEventsRequest, maxResults: Int?) throws -> [LookupEvent] {
        var request = request
        var events: [LookupEvent] = []
        while true {
            if let maxResults { request.maxResults = min(50, maxResults - events.count) }
            let page = try call(request)
            events.append(contentsOf: page.events)
            if let maxResults, events.count >= maxResults { return Array(events.prefix(maxResults)) }
            guard let token = page.nextToken, !page.events.isEmpty else { return events }
            request.nextToken = token
        }
    }

    func call(_ request: LookupEventsRequest) throws -> LookupEventsResponse {
        let response = try call(operation: "LookupEvents", body: try JSONEncoder().encode(request))
        do {
            return try JSONDecoder().decode(LookupEventsResponse.self, from: response)
        } catch {
            throw Failure(description: "the collector's answer is not a LookupEvents response: \(error)")
        }
    }

    /// `ListInsightsMetricData`: the count in each `period` from `start` to `end`, zeros filled
    /// in, every page; `host` or `user` for a host's or a user's series (HostTrail's own).
    public func insightsMetricData(
        eventSource: String, eventName: String, insightType: String, errorCode: String?, host: String? = nil, user: String? = nil,
        start: Date, end: Date, period: Int = 60
    ) throws -> [(time: Date, count: Double)] {
        var request: [String: JSONValue] = [
            "EventSource": .string(eventSource), "EventName": .string(eventName), "InsightType": .string(insightType),
            "StartTime": .integer(Int64(start.timeIntervalSince1970)), "EndTime": .integer(Int64(end.timeIntervalSince1970)),
            "Period": .integer(Int64(period)),
        ]
        if let errorCode { request["ErrorCode"] = .string(errorCode) }
        if let host { request["Host"] = .string(host) }
        if let user { request["Username"] = .string(user) }
        var points: [(time: Date, count: Double)] = []
        while true {
            let response = try call(operation: "ListInsightsMetricData", body: Data(JSONValue.object(request).serialized()))
            guard let answer = try? JSONValue.parse(response), let times = answer["Timestamps"]?.arrayValue,
                let values = answer["Values"]?.arrayValue, times.count == values.count
            else { throw Failure(description: "the collector's answer is not a ListInsightsMetricData response") }
            for (time, value) in zip(times, values) {
                let seconds: Double? =
                    switch time {
                    case .integer(let n): Double(n)
                    case .number(let n): n
                    default: nil
                    }
                let count: Double? =
                    switch value {
                    case .integer(let n): Double(n)
                    case .number(let n): n
                    default: nil
                    }
                guard let seconds, let count else { throw Failure(description: "ListInsightsMetricData returned a value that is not a number") }
                points.append((Date(timeIntervalSince1970: seconds), count))
            }
            guard let token = answer["NextToken"]?.stringValue else { return points }
            request["NextToken"] = .string(token)
        }
    }

    /// The collector's digest signing keys valid at some time in `[start, end]`, by fingerprint.
    public func publicKeys(start: Date, end: Date) throws -> [String: DigestPublicKey] {
        let body = Data("{\"StartTime\":\(Int64(start.timeIntervalSince1970)),\"EndTime\":\(Int64(end.timeIntervalSince1970))}".utf8)
        let response = try call(operation: "ListPublicKeys", body: body)
        guard let list = (try? JSONValue.parse(response))?.objectValue?["PublicKeyList"]?.arrayValue else {
            throw Failure(description: "the collector's answer is not a ListPublicKeys response")
        }
        var keys: [String: DigestPublicKey] = [:]
        for entry in list {
            guard let value = entry.objectValue?["Value"]?.stringValue, let der = Data(base64Encoded: value),
                let key = try? DigestPublicKey(derRepresentation: der)
            else { throw Failure(description: "ListPublicKeys returned a key that is not base64 PKCS#1 DER") }
            // The fingerprint is computed here, not taken from the answer.
            keys[key.fingerprint] = key
        }
        return keys
    }

    /// One of HostTrail's rules operations (`ListRules`, `ListActionJobs`, `RetryActionJob`); the answer.
    public func rulesCall(_ operation: String, _ request: JSONValue = [:]) throws -> JSONValue {
        let answer = try call(operation: operation, body: Data(request.serialized()))
        do {
            return try JSONValue.parse(Array(answer))
        } catch {
            throw Failure(description: "the collector's \(operation) answer is not JSON")
        }
    }

    /// One CloudTrail API call; the 200 answer's body.
    func call(operation: String, body: Data) throws -> Data {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.\(operation)"),
        ]
        if let credentials {
            // Host is signed, so it is sent as signed rather than left to libcurl.
            guard let url = URLComponents(string: collectorURL), let host = url.host else {
                throw Failure(description: "\(collectorURL) is not a URL")
            }
            headers.append(("Host", url.port.map { "\(host):\($0)" } ?? host))
            headers += SigV4.sign(
                method: "POST", path: "/", headers: headers, body: body, accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey,
                region: credentials.region, service: "cloudtrail", now: Date())
        }
        let response: HTTPSClient.Response
        do {
            response = try client.post(url: collectorURL, headers: headers.map { "\($0.name): \($0.value)" }, body: body)
        } catch let error as CurlError {
            throw Failure(description: "cannot reach the collector at \(collectorURL): \(error)")
        }
        guard response.status == 200 else {
            if let error = try? JSONDecoder().decode(CloudTrailAPIError.self, from: response.body) {
                throw Failure(description: "the collector refused \(operation): \(error.type): \(error.message)")
            }
            throw Failure(description: "the collector answered HTTP \(response.status): \(response.bodyText.prefix(500))")
        }
        return response.body
    }
}
