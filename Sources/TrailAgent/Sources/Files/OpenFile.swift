// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#endif

/// One file opened for reading, closed when the last reference to it goes: the follower's
/// streams, its catch-up list and the rotations it compares are passed around and dropped, and
/// none is closed by hand.
final class OpenFile {
    let descriptor: Int32

    /// Takes over `descriptor` (this object closes it).
    init(adopting descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Opens `path` read-only; `nil` with `errno` set when it cannot be.
    convenience init?(path: String) {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        self.init(adopting: descriptor)
    }

    deinit {
        close(descriptor)
    }

    /// Reads up to `buffer.count` bytes at `offset`: the count (0 at the end), or the failure
    /// (`EINTR` is retried).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemCall.Failure) -> Int {
        try Self.read(descriptor, into: buffer, at: offset)
    }

    /// `pread(2)` of any descriptor, `EINTR` retried.
    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemCall.Failure) -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            let code = errno
            if code != EINTR { throw SystemCall.Failure(call: "pread", errno: code) }
        }
    }

    /// `fstat(2)`, or `nil`.
    var status: stat? {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? info : nil
    }

    /// The size in bytes (0 when it cannot be read).
    var size: Int { status.map { Int($0.st_size) } ?? 0 }
}
