// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A program the agent runs for a response (`nft`, `usermod`, a command response's own): started
/// with `posix_spawn` (no shell; Foundation's `Process` would link all of Foundation into the
/// agent) in a process group of its own with default signal handling, `input` on its standard
/// input, standard output and error collected (the first ``keptOutputBytes``), and the whole group
/// killed at the timeout.
struct ChildProgram {
    struct Result: Sendable {
        /// The exit status; `nil` when killed (by the timeout or a signal).
        var exitCode: Int32?
        var timedOut: Bool
        var output: String
        var succeeded: Bool { exitCode == 0 }
    }

    static let keptOutputBytes = 4096

    /// Runs `argv` (its first element an absolute path) and waits for it.
    ///
    /// - Throws: `SystemCall.Failure` when it cannot be started.
    static func run(_ argv: [String], input: [UInt8] = [], timeout: Duration) throws -> Result {
        var inputPipe: [Int32] = [0, 0]
        var outputPipe: [Int32] = [0, 0]
        // pipe2(2) is not in Swift's Glibc module; no other thread of the agent starts programs
        // while these are open without FD_CLOEXEC, and each is set at once.
        try SystemCall.check("pipe") { pipe(&inputPipe) }
        defer { closeIfOpen(&inputPipe[1]) }
        do {
            try SystemCall.check("pipe") { pipe(&outputPipe) }
        } catch {
            close(inputPipe[0])
            throw error
        }
        defer { closeIfOpen(&outputPipe[0]) }
        for fd in inputPipe + outputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
        var pid: pid_t = 0
        let started = withCStrings(argv) { arguments in
            withCStrings(environment) { environment in
                posix_spawn(&pid, argv[0], &actions, &attributes, arguments, environment)
            }
        }
        close(inputPipe[0])
        close(outputPipe[1])
        guard started == 0 else { throw SystemCall.Failure(call: "posix_spawn \(argv[0])", errno: started) }

        // The input is small (a request's JSON); a program that does not read it must not stall
        // the agent, so the pipe is non-blocking and what does not fit is dropped.
        _ = fcntl(inputPipe[1], F_SETFL, O_NONBLOCK)
        input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(inputPipe[1], bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
        }
        closeIfOpen(&inputPipe[1])

        // Output is read until it ends or the program exits (a background grandchild may keep
        // the pipe open), and the program is waited for no longer than the timeout either way.
        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var status: Int32 = 0
        var exited = false
        var outputOpen = true
        // Once the output has ended the program is exiting: its end is polled for, briefly at
        // first (each `nft` a response runs is waited for this way).
        var pause = Duration.milliseconds(1)
        while !exited {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                break
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            let slice = Int32(max(1, min(left.milliseconds, 100)))
            guard outputOpen else {
                DedicatedThread.sleep(for: min(pause, left))
                pause = min(pause * 2, .milliseconds(50))
                continue
            }
            var descriptor = pollfd(fd: outputPipe[0], events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, slice) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                outputOpen = false
                continue
            }
            if output.count < keptOutputBytes { output += buffer.prefix(min(count, keptOutputBytes - output.count)) }
        }
        let timedOut = !exited
        if timedOut {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        } else if outputOpen {
            // What the program wrote just before it exited is still in the pipe.
            _ = fcntl(outputPipe[0], F_SETFL, O_NONBLOCK)
            while output.count < keptOutputBytes {
                let count = buffer.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                output += buffer.prefix(min(count, keptOutputBytes - output.count))
            }
        }
        // WIFEXITED / WEXITSTATUS, which Swift's Glibc does not import as functions.
        let exitedNormally = status & 0x7F == 0
        return Result(
            exitCode: !timedOut && exitedNormally ? (status >> 8) & 0xFF : nil, timedOut: timedOut, output: String(decoding: output, as: UTF8.self))
    }

    private static func closeIfOpen(_ fd: inout Int32) {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

extension Duration {
    fileprivate var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
