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
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: Data? = nil,
        timeout: TimeInterval = 60
    ) throws -> Result {
        let directory = try TemporaryDirectory(prefix: "cmd")
        defer { directory.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("out")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("err")))
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            FileManager.default.createFile(atPath: directory.file("in"), contents: stdin)
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("in")))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
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
}
