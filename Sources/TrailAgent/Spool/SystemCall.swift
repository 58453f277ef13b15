// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The agent's one place where a POSIX `-1` + `errno` becomes a Swift error; retries `EINTR`.
enum SystemCall {
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var errno: Int32
        var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    @discardableResult
    static func check<T: BinaryInteger>(_ call: String, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw Failure(call: call, errno: code)
        }
    }

    /// Writes all of `data` to `fd`.
    static func writeAll(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = try check("write") { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                offset += written
            }
        }
    }

    /// fsync(2) of a directory, so a rename or unlink in it is durable.
    static func syncDirectory(_ path: String) throws {
        let fd = try check("open \(path)") { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try check("fsync \(path)") { fsync(fd) }
    }
}
