// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailAgent

/// The threads the spool's committer and the journal reader live on (Foundation's `Thread` and
/// `NSCondition` are not linked into the agent).
struct DedicatedThreadTests {
    /// What a test's thread saw; guarded by `condition` where both sides use it.
    final class Shared: @unchecked Sendable {
        var threadName = ""
        var ready = false
        var woken = false
    }

    @Test func theBodyRunsOnAThreadOfItsOwnUnderItsName() async throws {
        let shared = Shared()
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            do {
                try DedicatedThread.start(name: "ht-test-a-long-name") {
                    shared.threadName = Self.currentThreadName()
                    done.resume()
                }
            } catch {
                done.resume(throwing: error)
            }
        }
        // The kernel keeps 15 bytes of a thread's name; the caller's own is untouched.
        #expect(shared.threadName == "ht-test-a-long-")
        #expect(Self.currentThreadName() != "ht-test-a-long-")
    }

    @Test func aConditionHandsStateBetweenTwoThreads() async throws {
        let condition = PosixCondition()
        let shared = Shared()
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            do {
                try DedicatedThread.start(name: "ht-test-wait") {
                    condition.lock()
                    shared.ready = true
                    condition.broadcast()
                    while !shared.woken { condition.wait() }
                    condition.unlock()
                    done.resume()
                }
            } catch {
                done.resume(throwing: error)
                return
            }
            condition.lock()
            while !shared.ready { condition.wait() }
            shared.woken = true
            condition.signal()
            condition.unlock()
        }
        #expect(shared.ready && shared.woken)
    }

    @Test func sleepWaitsAtLeastTheDuration() {
        let elapsed = ContinuousClock().measure { DedicatedThread.sleep(for: .milliseconds(30)) }
        #expect(elapsed >= .milliseconds(30))
    }

    static func currentThreadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
    }
}
