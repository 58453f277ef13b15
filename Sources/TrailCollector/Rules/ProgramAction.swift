// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import TrailCore
import TrailRules

/// The `exec` action: the program, run as `user` (through `runuser` when the collector is root;
/// as the collector's own unprivileged user otherwise) in a process group of its own, the match's JSON
/// on its standard input, no shell, killed with everything it started at its timeout; its exit
/// code and first kilobytes of output are kept.
enum ProgramAction {
    static let keptOutputBytes = 4096

    /// A program that exits without reading its input closes the pipe under the writer: the write
    /// must fail with EPIPE, not raise SIGPIPE, whose default ends the whole collector. Set once,
    /// for the process (nothing in the collector wants SIGPIPE).
    static let sigpipeIgnored: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Blocks until the program ends or is killed.
    static func run(_ exec: RuleAction.Exec, input: Data) -> ActionOutcome {
        _ = sigpipeIgnored
        let process = Process()
        // Foundation starts it as the leader of a process group of its own, so the timeout
        // kills the program and whatever it started.
        let command = (geteuid() == 0 ? ["/usr/sbin/runuser", "-u", exec.user, "--"] : []) + exec.command
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let stdin = Pipe()
        let output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            return ActionOutcome(errorCode: "ProgramNotStarted", errorMessage: "\(error)", details: [:], retryable: true, retryAfter: nil)
        }
        // Input and output on their own threads: a program that reads nothing or writes a lot
        // must not stall the other side.
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let collected = OutputBuffer()
        let reader = Thread {
            while let chunk = try? output.fileHandleForReading.read(upToCount: 65_536), !chunk.isEmpty { collected.append(chunk) }
            collected.finish()
        }
        reader.start()
        let timedOut = ended.wait(timeout: .now() + .seconds(exec.timeoutSeconds)) == .timedOut
        if timedOut {
            kill(-process.processIdentifier, SIGKILL)
            ended.wait()
        }
        let text = collected.wait(atMost: 2)
        // Stored as it is (JSON escapes it); whatever shows it escapes it for its medium.
        var details: [String: JSONValue] = ["output": .string(text)]
        if timedOut {
            return ActionOutcome(
                errorCode: "Timeout", errorMessage: "the program ran past its \(exec.timeoutSeconds) s and was killed", details: details,
                retryable: true, retryAfter: nil)
        }
        details["exitCode"] = .integer(Int64(process.terminationStatus))
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how =
                process.terminationReason == .exit ? "exited with \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            return ActionOutcome(
                errorCode: "ProgramFailed", errorMessage: "the program \(how)", details: details, retryable: true, retryAfter: nil)
        }
        return .success(details)
    }

    /// The first ``keptOutputBytes`` of a program's output (the rest is read and dropped).
    final class OutputBuffer: @unchecked Sendable {
        private let lock = NSCondition()
        private var data = Data()
        private var done = false

        func append(_ chunk: Data) {
            lock.lock()
            defer { lock.unlock() }
            if data.count < ProgramAction.keptOutputBytes { data.append(chunk.prefix(ProgramAction.keptOutputBytes - data.count)) }
        }

        func finish() {
            lock.lock()
            done = true
            lock.broadcast()
            lock.unlock()
        }

        /// What was read by the end of the output, or after `seconds` (a child of the program may
        /// hold the pipe open).
        func wait(atMost seconds: Double) -> String {
            lock.lock()
            defer { lock.unlock() }
            let deadline = Date(timeIntervalSinceNow: seconds)
            while !done, lock.wait(until: deadline) {}
            return String(decoding: data, as: UTF8.self)
        }
    }
}
