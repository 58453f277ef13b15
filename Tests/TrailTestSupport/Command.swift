// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Runs a program to completion (with a time limit) and captures what it printed.
public struct Command: Sendable {
    public struct Result: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var command: String
        public var description: String { "timed out: \(command)" }
    }

    /// Runs `executable` with `arguments`; kills it after `timeout` seconds.
    ///
    /// - Parameter unblockingSignals: Start it with no signal blocked (see
    ///   ``TestProcess/init(_:_:logPath:environment:unblockingSignals:)``): sshpass waits for
    ///   SIGCHLD, which the test thread's mask would block forever.
    /// - Parameter startsDaemons: The command leaves daemons running (a script that starts
    ///   rsyslogd). Foundation learns that a child exited when a descriptor the child inherited
    ///   closes; a daemon holding it keeps the command "running" for ever. A python parent stays in
    ///   between and runs the command with every descriptor above stderr closed.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: Data? = nil,
        timeout: TimeInterval = 60, unblockingSignals: Bool = false, startsDaemons: Bool = false
    ) throws -> Result {
        let directory = try TemporaryDirectory(prefix: "cmd")
        defer { directory.remove() }
        let process = Process()
        let path = executable.hasPrefix("/") ? executable : try which(executable)
        if startsDaemons {
            let supervisor = """
                import os, signal, sys
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                pid = os.fork()
                if pid == 0:
                    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                    os.execv(sys.argv[1], sys.argv[1:])
                _, status = os.waitpid(pid, 0)
                sys.exit(os.waitstatus_to_exitcode(status))
                """
            (process.executableURL, process.arguments) = (URL(fileURLWithPath: "/usr/bin/python3"), ["-c", supervisor, path] + arguments)
        } else {
            (process.executableURL, process.arguments) =
                unblockingSignals ? withSignalsUnblocked(path, arguments) : (URL(fileURLWithPath: path), arguments)
        }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        _ = FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("out")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("err")))
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            _ = FileManager.default.createFile(atPath: directory.file("in"), contents: stdin)
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("in")))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                // SIGKILL: a program started with SIGTERM blocked would never end. Not waited for:
                // if a daemon holds Foundation's descriptor, waiting would block the whole suite.
                kill(process.processIdentifier, SIGKILL)
                throw TimedOut(command: ([executable] + arguments).joined(separator: " "))
            }
            usleep(10_000)
        }
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: directory.file("out"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: directory.file("err"), encoding: .utf8)) ?? "")
    }

    public static func which(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TimedOut(command: "\(name) is not on PATH")
    }

    /// The program and arguments that run `executable` with an empty signal mask: python3 resets
    /// the mask and execs the program in place, so the pid stays the program's.
    static func withSignalsUnblocked(_ executable: String, _ arguments: [String]) -> (URL, [String]) {
        (
            URL(fileURLWithPath: "/usr/bin/python3"),
            ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, set()); os.execv(sys.argv[1], sys.argv[1:])", executable]
                + arguments
        )
    }
}
