// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A setting a reload can replace while the daemon runs: readers take ``current`` when they
/// start a piece of work, the reload ``set(_:)``s the new value.
public final class LiveValue<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ value: Value) {
        self.value = Mutex(value)
    }

    public var current: Value { value.withLock { $0 } }

    public func set(_ new: Value) {
        value.withLock { $0 = new }
    }
}
