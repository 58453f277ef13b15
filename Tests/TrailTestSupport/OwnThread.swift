// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Runs `body` on a thread of its own and waits up to `seconds` for what it returns: for C handles
/// that must live on one thread for their whole life (an `sd_journal`). `nil` if it did not finish.
public func onOwnThread<Value: Sendable>(waitingUpTo seconds: Double, _ body: @escaping @Sendable () -> Value) -> Value? {
    let result = ThreadResult<Value>()
    Thread { result.finish(body()) }.start()
    return result.wait(seconds: seconds)
}

private final class ThreadResult<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is written once before `done` is signalled and read after.
    private var value: Value?
    private let done = DispatchSemaphore(value: 0)

    func finish(_ value: Value) {
        self.value = value
        done.signal()
    }

    func wait(seconds: Double) -> Value? {
        done.wait(timeout: .now() + seconds) == .success ? value : nil
    }
}
