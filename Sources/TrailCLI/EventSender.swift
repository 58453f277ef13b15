// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import Foundation
import TrailCore

/// Sends application events to the agent's Unix socket (`POST /v1/events`): what `hosttrail send` does.
public struct EventSender: Sendable {
    /// The agent refused the events, or could not be reached.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let client: HTTPSClient
    let socketPath: String

    /// - Parameter socketPath: The agent's application socket, `/run/hosttrail/api.sock` by default.
    public init(socketPath: String, timeout: Duration = .seconds(30)) throws {
        self.socketPath = socketPath
        client = try HTTPSClient(
            configuration: HTTPSClient.Configuration(connectTimeout: .seconds(5), totalTimeout: timeout, unixSocketPath: socketPath))
    }

    /// The event `hosttrail send` builds from its flags.
    ///
    /// - Parameters:
    ///   - parameters: `KEY=VALUE` (a string) or `KEY:=JSON` (a number, boolean, array or object),
    ///     into `requestParameters`; a dotted key is not split.
    /// - Throws: ``Failure`` for a parameter of neither form.
    public static func event(
        eventSource: String?, eventName: String, parameters: [String], requestID: String?, endUser: String?, readOnly: Bool?
    ) throws -> JSONValue {
        var event: [String: JSONValue] = ["eventName": .string(eventName)]
        if let eventSource { event["eventSource"] = .string(eventSource) }
        if let requestID { event["requestID"] = .string(requestID) }
        if let endUser { event["userIdentity"] = ["userName": .string(endUser)] }
        if let readOnly { event["readOnly"] = .bool(readOnly) }
        var values: [String: JSONValue] = [:]
        for parameter in parameters {
            if let marker = parameter.range(of: ":="), !parameter[..<marker.lowerBound].contains("=") {
                let text = parameter[marker.upperBound...]
                guard let value = try? JSONValue.parse(Array(text.utf8)) else {
                    throw Failure(description: "--param \(parameter): the value after := is not JSON")
                }
                values[String(parameter[..<marker.lowerBound])] = value
            } else if let equals = parameter.firstIndex(of: "=") {
                values[String(parameter[..<equals])] = .string(String(parameter[parameter.index(after: equals)...]))
            } else {
                throw Failure(description: "--param \(parameter): expected KEY=VALUE or KEY:=JSON")
            }
        }
        if !values.isEmpty { event["requestParameters"] = .object(values) }
        return .object(event)
    }

    /// Posts `body` (one event, `{"events": [...]}` or NDJSON) and returns the event IDs in order.
    ///
    /// - Throws: ``Failure`` with the agent's error code and message, or why it could not be reached.
    public func send(_ body: Data, contentType: String = "application/json") throws -> [String] {
        let response: HTTPSClient.Response
        do {
            response = try client.post(url: "http://localhost/v1/events", headers: ["Content-Type: \(contentType)"], body: body)
        } catch {
            throw Failure(description: "cannot reach the agent on \(socketPath): \(error)")
        }
        let reply = try? JSONValue.parse(response.body)
        guard response.status == 202 else {
            if let error = reply?["error"], let code = error["code"]?.stringValue, let message = error["message"]?.stringValue {
                var text = "\(response.status) \(code): \(message)"
                if let index = error["index"]?.integerValue { text += " (event \(index))" }
                if let retry = response.headers["retry-after"], !message.contains("retry") { text += " (retry after \(retry) s)" }
                throw Failure(description: text)
            }
            throw Failure(description: "the agent answered \(response.status): \(response.bodyText)")
        }
        guard let ids = reply?["eventIDs"]?.arrayValue else {
            throw Failure(description: "the agent's reply has no eventIDs: \(response.bodyText)")
        }
        return ids.map { $0.stringValue ?? "null" }
    }
}
