// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailSystemd
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A socket file is taken over only when nothing can be listening on it.
struct SocketPathStateTests {
    /// A Unix socket bound at `path`, listening or not; the descriptor.
    static func bound(_ path: String, listening: Bool) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1))) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(result == 0)
        if listening { try #require(listen(fd, 4) == 0) }
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
    }
}
