// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The connections a server holds at once, in all and per client (an address, an account), shared
/// by every connection's handler; and the cap on them under a descriptor limit. The agent's socket
/// and the collector's listener close what is over their caps with it.
public final class ConnectionTally<Client: Hashable & Sendable>: Sendable {
    private let openCount = Atomic<Int>(0)
    private let byClient = Mutex<[Client: Int]>([:])
    /// When the last refusal was logged (``shouldWarn(now:)``).
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// Counts a connection opened; how many are open now, this one included.
    public func open() -> Int {
        openCount.add(1, ordering: .relaxed).newValue
    }

    /// Counts an open connection against `client`; how many `client` holds now, this one included.
    public func assign(to client: Client) -> Int {
        byClient.withLock { counts in
            counts[client, default: 0] += 1
            return counts[client]!
        }
    }

    /// Counts a connection closed, and released from `client` when it was assigned to one.
    public func close(assignedTo client: Client?) {
        openCount.subtract(1, ordering: .relaxed)
        guard let client else { return }
        byClient.withLock { counts in
            counts[client, default: 1] -= 1
            if counts[client]! <= 0 { counts[client] = nil }
        }
    }

    /// Whether to log a refusal now: once every 10 s however many there are, so a flood of
    /// connections is not also a flood of log lines.
    public func shouldWarn(now: ContinuousClock.Instant = .now) -> Bool {
        lastWarning.withLock { last in
            if let last, now - last < .seconds(10) { return false }
            last = now
            return true
        }
    }

    /// How many connections to serve at once under `descriptorLimit` (`RLIMIT_NOFILE`'s soft
    /// value): `configured`, lowered so that a quarter of the descriptors (256 at least) stays for
    /// what the daemon opens itself. 1,100 trickling connections once took all 1,024 descriptors of
    /// an agent, and then it could open no spool segment.
    public static func cap(configured: Int, descriptorLimit: Int) -> Int {
        max(1, min(configured, descriptorLimit - max(256, descriptorLimit / 4)))
    }
}
