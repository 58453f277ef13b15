// SPDX-License-Identifier: Apache-2.0

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Minimal Unix-socket clients and listeners for tests that need what curl cannot do.
public enum UnixSockets {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)))
        }
        return address
    }

    /// A datagram socket bound at `path`, like systemd's `$NOTIFY_SOCKET`.
    public final class DatagramListener: @unchecked Sendable {
        // @unchecked: owns one file descriptor, used by one test at a time.
        let fd: Int32
        public let path: String

        public init(path: String) throws {
            self.path = path
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = UnixSockets.address(path)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, bound == 0 else { throw Failure(description: "cannot bind \(path): \(String(cString: strerror(errno)))") }
        }

        /// Every datagram received within `timeout` seconds, until one contains `marker`.
        public func receive(until marker: String, timeout: TimeInterval) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 {
                    let message = String(decoding: buffer[0..<count], as: UTF8.self)
                    messages.append(message)
                    if message.contains(marker) { break }
                }
            }
            return messages
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    /// A stream connection to a Unix socket that sends raw bytes: for half requests and stalls.
    public final class StreamClient: @unchecked Sendable {
        // @unchecked: owns one file descriptor, used by one test at a time.
        let fd: Int32

        public init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = UnixSockets.address(path)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, connected == 0 else { throw Failure(description: "cannot connect to \(path): \(String(cString: strerror(errno)))") }
        }

        public func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
                throw Failure(description: "send failed: \(String(cString: strerror(errno)))")
            }
        }

        /// Reads until what was read ends with `suffix`, the peer closes or `timeout` passes.
        public func read(until suffix: String, timeout: TimeInterval) -> String {
            read(until: Optional(suffix), timeout: timeout)
        }

        /// Reads until the peer closes or `timeout` passes.
        public func readAll(timeout: TimeInterval) -> String {
            read(until: nil, timeout: timeout)
        }

        private func read(until suffix: String?, timeout: TimeInterval) -> String {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline && !(suffix.map { String(decoding: data, as: UTF8.self).hasSuffix($0) } ?? false) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: data, as: UTF8.self)
        }

        deinit {
            close(fd)
        }
    }
}
