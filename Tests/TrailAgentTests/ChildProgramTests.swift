// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailAgent

/// The programs responses run: input given, output kept, exit code read, and a program that
/// outlives its timeout (or leaves a child holding its output) never holds the agent.
struct ChildProgramTests {
    @Test func theProgramReadsItsInputAndItsOutputAndExitCodeAreKept() throws {
        let result = try ChildProgram.run(["/bin/sh", "-c", "cat; echo done >&2; exit 3"], input: Array("hello\n".utf8), timeout: .seconds(10))
        #expect(result.exitCode == 3 && !result.timedOut && result.output == "hello\ndone\n")
        // A program that never reads its input, given more than a pipe holds: not a hang, not SIGPIPE.
        let deaf = try ChildProgram.run(["/bin/true"], input: [UInt8](repeating: 0x41, count: 1 << 20), timeout: .seconds(10))
        #expect(deaf.exitCode == 0)
        #expect(throws: SystemCall.Failure.self) { try ChildProgram.run(["/nonexistent/program"], timeout: .seconds(1)) }
    }

    @Test func aProgramPastItsTimeoutIsKilledWithWhatItStarted() throws {
        let start = ContinuousClock.now
        let result = try ChildProgram.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], timeout: .milliseconds(300))
        #expect(result.timedOut && result.exitCode == nil && ContinuousClock.now - start < .seconds(10))
    }

    @Test func aChildLeftHoldingTheOutputDoesNotMakeTheProgramTimeOut() throws {
        let start = ContinuousClock.now
        // The program exits at once; its background child keeps the output pipe open for 3 s.
        let result = try ChildProgram.run(["/bin/sh", "-c", "echo started; sleep 3 & exit 0"], timeout: .seconds(10))
        #expect(result.exitCode == 0 && !result.timedOut && result.output == "started\n" && ContinuousClock.now - start < .seconds(2))
        // And one that closes its output and then stalls is still held to the timeout.
        let quiet = try ChildProgram.run(["/bin/sh", "-c", "exec >/dev/null 2>&1; sleep 30"], timeout: .milliseconds(300))
        #expect(quiet.timedOut)
    }
}
