// SPDX-License-Identifier: Apache-2.0

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A daemon a test starts (collector, agent), with its output in a log file the test can wait on.
public final class TestProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; tests use one TestProcess from one task at a time.
    public let process: Process
    public let logPath: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// - Parameter unblockingSignals: Start the program with no signal blocked. Foundation's
    ///   `Process` passes on the test thread's signal mask, which blocks SIGHUP among others; a
    ///   daemon that reopens its files on SIGHUP (rsyslogd) would never see it.
    public init(
        _ executable: String, _ arguments: [String], logPath: String, environment: [String: String] = [:], unblockingSignals: Bool = false,
        closesInheritedFiles: Bool = false
    ) throws {
        self.logPath = logPath
        process = Process()
        if closesInheritedFiles {
            // Foundation's Process learns that a child exited when a descriptor the child inherited
            // closes; a program that closes every inherited descriptor at start (sshd) looks exited,
            // and Foundation then blocks in waitpid for it, so no other child is ever reaped. A
            // python parent stays in between, forwards SIGTERM and exits with the program's status.
            let supervisor = """
                import os, signal, sys
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                pid = os.fork()
                if pid == 0:
                    os.execv(sys.argv[1], sys.argv[1:])
                print(f"supervised pid {pid}", file=sys.stderr, flush=True)
                signal.signal(signal.SIGTERM, lambda number, frame: os.kill(pid, signal.SIGTERM))
                _, status = os.waitpid(pid, 0)
                sys.exit(os.waitstatus_to_exitcode(status))
                """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", supervisor, executable] + arguments
        } else if unblockingSignals {
            (process.executableURL, process.arguments) = Command.withSignalsUnblocked(executable, arguments)
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    public var pid: Int32 { process.processIdentifier }

    /// The program's own pid when it runs under a supervisor (`closesInheritedFiles`).
    public func supervisedPid() throws -> Int32 {
        guard let pid = Int32(try waitForLog(#"supervised pid (\d+)"#)) else { throw Failure(description: "no supervised pid in \(logPath)") }
        return pid
    }

    /// Waits until the log matches `pattern` (a regular expression) and returns the first capture group, or the match.
    @discardableResult
    public func waitForLog(_ pattern: String, timeout: TimeInterval = 30) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = log
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
                return String(text[Range(range, in: text)!])
            }
            if !process.isRunning {
                throw Failure(description: "process exited (\(process.terminationStatus)) before logging /\(pattern)/:\n\(text)")
            }
            usleep(20_000)
        }
        throw Failure(description: "timed out waiting for /\(pattern)/ in the log:\n\(log)")
    }

    /// Waits until the log holds `text` at least `count` times.
    public func waitForLog(_ text: String, count: Int, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while log.components(separatedBy: text).count - 1 < count {
            if Date() > deadline { throw Failure(description: "timed out waiting for \(count)× '\(text)' in the log:\n\(log)") }
            if !process.isRunning { throw Failure(description: "process exited (\(process.terminationStatus)) before logging '\(text)' \(count)×") }
            usleep(20_000)
        }
    }

    /// Waits for the process to exit on its own and returns its status.
    public func waitForExit(timeout: TimeInterval = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { throw Failure(description: "process did not exit:\n\(log)") }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    /// SIGTERM, then waits for a graceful exit; SIGKILL if it takes longer than `timeout`.
    @discardableResult
    public func stop(timeout: TimeInterval = 20) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGKILL: a crash, as far as the process is concerned.
    public func crash() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}
