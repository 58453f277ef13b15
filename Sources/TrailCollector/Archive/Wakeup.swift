// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Ends a loop's wait early: ``signal()`` ends the current ``wait(atMost:)``, or the next one if
/// none is waiting.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Bool, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns after `duration`, at a signal, or when the task is cancelled; `true` for a signal.
    @discardableResult
    func wait(atMost duration: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask {
                try? await Task.sleep(for: duration)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // The other one's answer: a signal that came as the time ran out still counts.
            let second = await group.next() ?? false
            return first || second
        }
    }

    /// `true` once signalled (or signalled before); `false` when cancelled first.
    private func waitForSignal() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer = state.withLock { state -> Bool? in
                    if state.signalled {
                        state.signalled = false
                        return true
                    }
                    // Cancelled before the waiter was stored: the handler found none to resume.
                    if Task.isCancelled { return false }
                    state.waiter = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: false)
        }
    }
}
