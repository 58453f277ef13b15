// SPDX-License-Identifier: Apache-2.0

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Load generator for `make bench`: posts events to an agent's socket from several threads over
/// persistent HTTP/1.1 connections and prints one JSON line: events, seconds, events/s, p50/p99
/// request latency in ms. A compiled client, so the socket path is measured rather than the client.
///
/// Usage: hosttrail-loadgen SOCKET TOTAL_EVENTS EVENTS_PER_REQUEST CLIENTS
@main
enum LoadGenerator {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, let total = Int(arguments[2]), let perRequest = Int(arguments[3]), let clients = Int(arguments[4]),
            total > 0, perRequest > 0, clients > 0
        else {
            FileHandle.standardError.write(Data("usage: hosttrail-loadgen SOCKET TOTAL_EVENTS EVENTS_PER_REQUEST CLIENTS\n".utf8))
            exit(2)
        }
        let socketPath = arguments[1]
        let perClient = total / clients
        let latencies = LatencyLog()
        let failures = LatencyLog()
        let done = DispatchGroup()
        let started = Date()
        for client in 0..<clients {
            done.enter()
            Thread {
                defer { done.leave() }
                guard let connection = Connection(path: socketPath) else {
                    failures.add(0)
                    return
                }
                var sent = 0
                while sent < perClient {
                    let count = min(perRequest, perClient - sent)
                    var body = perRequest == 1 ? "" : "{\"events\":["
                    for index in 0..<count {
                        if index > 0 { body += "," }
                        body += "{\"eventSource\":\"bench.example.com\",\"eventName\":\"Load\",\"requestParameters\":{\"client\":\(client),\"n\":\(sent + index)}}"
                    }
                    if perRequest != 1 { body += "]}" }
                    let begin = Date()
                    guard connection.post(body) == 202 else {
                        failures.add(1)
                        return
                    }
                    latencies.add(Date().timeIntervalSince(begin))
                    sent += count
                }
            }.start()
        }
        done.wait()
        let seconds = Date().timeIntervalSince(started)
        let sorted = latencies.values.sorted()
        let p50 = sorted.isEmpty ? 0 : sorted[sorted.count / 2] * 1000
        let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000
        let events = sorted.count * perRequest
        print("{\"events\":\(events),\"seconds\":\(seconds),\"eventsPerSecond\":\(Double(events) / seconds),\"p50ms\":\(p50),\"p99ms\":\(p99),\"failures\":\(failures.values.count)}")
        exit(failures.values.isEmpty ? 0 : 1)
    }
}

/// Thread-safe list of measurements.
final class LatencyLog: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var storage: [Double] = []
    func add(_ value: Double) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// One persistent HTTP/1.1 connection over a Unix socket.
final class Connection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init?(path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8.prefix($0.count - 1))) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, connected == 0 else { return nil }
    }

    deinit { close(fd) }

    /// Sends one request and reads its response; returns the status, or nil on a broken connection.
    func post(_ body: String) -> Int? {
        let payload = Array(body.utf8)
        let request = Array("POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n".utf8) + payload
        var written = 0
        while written < request.count {
            let count = request.withUnsafeBytes { send(fd, $0.baseAddress! + written, request.count - written, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return nil }
            written += count
        }
        var response: [UInt8] = []
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            response.append(contentsOf: buffer[0..<count])
            guard let headerEnd = find(response, Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: response[0..<headerEnd], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if response.count >= headerEnd + 4 + length {
                return Int(head.dropFirst(9).prefix(3))
            }
        }
    }

    private func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] && Array(haystack[index..<(index + needle.count)]) == needle {
            return index
        }
        return nil
    }
}
