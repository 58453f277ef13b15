// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A one-way flag one service opens when it is up and another waits for (readiness).
final class StartupGate: Sendable {
    private let opened = Mutex(false)

    func open() {
        opened.withLock { $0 = true }
    }

    var isOpen: Bool {
        opened.withLock { $0 }
    }
}
