// SPDX-License-Identifier: Apache-2.0

import Glibc

/// A named POSIX thread that runs one closure and ends with it: the spool's committer and the
/// journal's reader each live on one for their whole life. (Foundation's `Thread` would link all of
/// Foundation and ICU into the agent; docs/ARCHITECTURE.md, "Release binaries".)
enum DedicatedThread {
    /// Starts `body` on a new detached thread called `name` (the kernel keeps 15 bytes of it).
    ///
    /// - Throws: `SystemCall.Failure` when the system gives no thread (`EAGAIN` at a process or
    ///   memory limit); `body` is then not run.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCall.Failure) {
        final class Start {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) { (self.name, self.body) = (name, body) }
        }
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                // pthread_setname_np is not in Swift's Glibc module; this is what it does on Linux.
                let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
                if comm >= 0 {
                    _ = Array(start.name.utf8.prefix(15)).withUnsafeBytes { write(comm, $0.baseAddress, $0.count) }
                    close(comm)
                }
                start.body()
                return nil
            }, start)
        guard created == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SystemCall.Failure(call: "pthread_create", errno: created)
        }
        pthread_detach(thread)
    }

    /// Blocks the calling thread for `duration`.
    static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
