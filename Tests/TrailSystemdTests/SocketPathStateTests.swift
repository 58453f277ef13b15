// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailSystemd
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A socket file is taken over only when nothing can be listening on it.
struct SocketPathStateTests {
    /// A Unix socket bound at `path`, listening (with `backlog`) or not; the descriptor.
    static func bound(_ path: String, listening: Bool, backlog: Int32 = 4) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = Self.address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(result == 0)
        if listening { try #require(listen(fd, backlog) == 0) }
        return fd
    }

    @Test func eachStateIsTold() throws {
        let directory = try TemporaryDirectory(prefix: "sps")
        defer { directory.remove() }
        #expect(SocketPathState.probe(directory.file("none")) == .absent)

        let file = directory.file("file")
        close(open(file, O_CREAT | O_WRONLY, 0o600))
        #expect(SocketPathState.probe(file) == .notASocket)

        let live = directory.file("live")
        let listener = try Self.bound(live, listening: true)
        #expect(SocketPathState.probe(live) == .live)
        // The listener gone, its file left behind (a killed daemon): nobody answers.
        close(listener)
        #expect(SocketPathState.probe(live) == .stale)

        let bound = directory.file("bound")
        let unlistened = try Self.bound(bound, listening: false)
        defer { close(unlistened) }
        #expect(SocketPathState.probe(bound) == .stale, "bound but not listening refuses connections")
    }

    /// A live listener whose backlog is full (a wedged daemon) answers EAGAIN, not a refusal: it is
    /// not taken over, and the probe does not wait for room.
    @Test(.timeLimit(.minutes(1))) func aFullBacklogIsLiveAndDoesNotBlock() throws {
        let directory = try TemporaryDirectory(prefix: "sps")
        defer { directory.remove() }
        let path = directory.file("busy")
        let listener = try Self.bound(path, listening: true, backlog: 0)
        defer { close(listener) }
        var clients: [Int32] = []
        defer { for client in clients { close(client) } }
        // Fill the backlog: connect until a connection is not taken.
        while clients.count < 16 {
            let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            try #require(client >= 0)
            clients.append(client)
            if Self.connect(client, path) != 0 {
                #expect(errno == EAGAIN)
                break
            }
        }
        try #require(clients.count < 16, "the backlog never filled")
        #expect(SocketPathState.probe(path) == .live)
    }

    static func connect(_ fd: Int32, _ path: String) -> Int32 {
        var address = Self.address(path)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1))) }
        return address
    }
}
