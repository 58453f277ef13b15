// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One HTTP/1.1 request over a Unix socket, `Connection: close`; for load and fault tests where
/// starting curl per event would be the bottleneck.
public enum SocketHTTPClient {
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    /// POSTs `body`; `nil` when the connection failed or closed without a reply (the agent died).
    public static func post(socket: String, path: String = "/v1/events", body: String, timeout: TimeInterval = 10) -> Reply? {
        guard let client = try? UnixSockets.StreamClient(path: socket) else { return nil }
        let bytes = Array(body.utf8)
        let request =
            "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            + body
        guard (try? client.send(request)) != nil else { return nil }
        let response = client.readAll(timeout: timeout)
        guard response.hasPrefix("HTTP/1.1 "), let status = Int(response.dropFirst(9).prefix(3)) else { return nil }
        let parts = response.components(separatedBy: "\r\n\r\n")
        return Reply(status: status, body: parts.count > 1 ? parts[1...].joined(separator: "\r\n\r\n") : "")
    }
}
