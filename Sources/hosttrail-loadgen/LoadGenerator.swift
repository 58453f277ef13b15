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
                // The client's own cost stays small next to the agent's: bytes built in reused
                // buffers, latencies kept per thread and handed over once.
                var own: [Double] = []
                own.reserveCapacity(perClient / perRequest + 1)
                var body: [UInt8] = []
                let eventPrefix = Array(
                    "{\"eventSource\":\"bench.example.com\",\"eventName\":\"Load\",\"requestParameters\":{\"client\":\(client),\"n\":".utf8)
                var sent = 0
                while sent < perClient {
                    let count = min(perRequest, perClient - sent)
                    body.removeAll(keepingCapacity: true)
                    if perRequest != 1 { body.append(contentsOf: "{\"events\":[".utf8) }
                    for index in 0..<count {
                        if index > 0 { body.append(UInt8(ascii: ",")) }
                        body.append(contentsOf: eventPrefix)
                        Connection.appendDecimal(sent + index, to: &body)
                        body.append(contentsOf: "}}".utf8)
                    }
                    if perRequest != 1 { body.append(contentsOf: "]}".utf8) }
                    let begin = Connection.monotonicSeconds()
                    guard connection.post(body) == 202 else {
                        failures.add(1)
                        break
                    }
                    own.append(Connection.monotonicSeconds() - begin)
                    sent += count
                }
                latencies.add(contentsOf: own)
            }.start()
        }
        done.wait()
        let seconds = Date().timeIntervalSince(started)
        let sorted = latencies.values.sorted()
        let p50 = sorted.isEmpty ? 0 : sorted[sorted.count / 2] * 1000
        let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000
        let events = sorted.count * perRequest
        print(
            "{\"events\":\(events),\"seconds\":\(seconds),\"eventsPerSecond\":\(Double(events) / seconds),\"p50ms\":\(p50),\"p99ms\":\(p99),\"failures\":\(failures.values.count)}"
        )
        exit(failures.values.isEmpty ? 0 : 1)
    }
}

/// Thread-safe list of measurements.
final class LatencyLog: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var storage: [Double] = []
    func add(_ value: Double) { lock.lock(); storage.append(value); lock.unlock() }
    func add(contentsOf values: [Double]) { lock.lock(); storage.append(contentsOf: values); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// One persistent HTTP/1.1 connection over a Unix socket.
final class Connection {
    private let fd: Int32
    private var request: [UInt8] = []
    private var response = [UInt8](repeating: 0, count: 65536)
    private static let contentLength = Array("content-length:".utf8)
    private static let head = Array("POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ".utf8)

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

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: String(value).utf8)  // a small string: no allocation
    }

    /// Sends one request and reads its response; returns the status, or nil on a broken
    /// connection or a response it cannot read.
    func post(_ body: [UInt8]) -> Int? {
        request.removeAll(keepingCapacity: true)
        request.append(contentsOf: Self.head)
        Self.appendDecimal(body.count, to: &request)
        request.append(contentsOf: "\r\n\r\n".utf8)
        request.append(contentsOf: body)
        let sent = request.withUnsafeBytes { raw -> Bool in
            var written = 0
            while written < raw.count {
                let count = send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
                if count <= 0 { return false }
                written += count
            }
            return true
        }
        guard sent else { return nil }
        var received = 0
        while true {
            if received == response.count { response.append(contentsOf: [UInt8](repeating: 0, count: response.count)) }
            let count = response.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            if count <= 0 { return nil }
            received += count
            guard let (headerEnd, length, status) = Self.parseHead(response, count: received) else { continue }
            if received >= headerEnd + length { return status }
        }
    }

    /// The end of the head, the body's Content-Length and the status, once the head is complete.
    private static func parseHead(_ bytes: [UInt8], count: Int) -> (Int, Int, Int)? {
        guard count >= 12 else { return nil }
        var end = -1
        var index = 3
        while index < count {
            if bytes[index] == UInt8(ascii: "\n"), bytes[index - 1] == UInt8(ascii: "\r"), bytes[index - 2] == UInt8(ascii: "\n"),
                bytes[index - 3] == UInt8(ascii: "\r")
            {
                end = index + 1
                break
            }
            index += 1
        }
        guard end > 0 else { return nil }
        let status = Int(bytes[9] &- 48) * 100 + Int(bytes[10] &- 48) * 10 + Int(bytes[11] &- 48)
        var length = 0
        var line = 0
        while line < end {
            let name = contentLength
            var matches = line + name.count <= end
            var offset = 0
            while matches && offset < name.count {
                matches = bytes[line + offset] | 0x20 == name[offset] | 0x20
                offset += 1
            }
            if matches {
                var position = line + name.count
                while bytes[position] == 32 { position += 1 }
                while bytes[position] >= 48 && bytes[position] <= 57 {
                    length = length * 10 + Int(bytes[position] - 48)
                    position += 1
                }
                break
            }
            while line < end && bytes[line] != UInt8(ascii: "\n") { line += 1 }
            line += 1
        }
        return (end, length, status)
    }
}
