// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#endif

/// What is at a Unix socket path a server is about to bind: a daemon killed without cleaning up
/// leaves its socket file behind, and bind fails on it until it is removed.
public enum SocketPathState: Sendable, Equatable {
    /// Nothing at the path.
    case absent
    /// A socket nobody listens on (connecting is refused): safe to remove.
    case stale
    /// A socket a process serves, or one that cannot be probed (a listener with a full backlog
    /// answers EAGAIN; connecting may be denied): never taken over.
    case live
    /// A file of another kind: never removed.
    case notASocket

    /// Looks at `path` with one non-blocking connect (a blocking one would wait on a full backlog).
    public static func probe(_ path: String) -> SocketPathState {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .absent }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else { return .notASocket }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .live }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1))) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected != 0 && errno == ECONNREFUSED ? .stale : .live
    }
}
