// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// Wakes the long-polls of hosts that have new requests. Each host has a generation, bumped when
/// requests are queued for it: a poll reads it before it queries the store and waits only while
/// it is unchanged, so a request queued between the query and the wait is not missed.
final class ResponseBoard: Sendable {
    private struct Waiting: ~Copyable {
        var generations: [String: UInt64] = [:]
        var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
        var released: Set<UUID> = []
        var closed = false
    }

    private let state = Mutex(Waiting())

    func generation(of host: String) -> UInt64 { state.withLock { $0.generations[host] ?? 0 } }

    /// New requests for `hosts`.
    func signal(_ hosts: some Sequence<String>) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var woken: [CheckedContinuation<Void, Never>] = []
            for host in Set(hosts) {
                state.generations[host, default: 0] &+= 1
                woken += state.waiters.removeValue(forKey: host)?.values.map { $0 } ?? []
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when `host` has new requests since `generation`, or after `timeout`.
    func wait(host: String, since generation: UInt64, timeout: Duration) async {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.release(host: host, id: id)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                // Released before it waits: the timeout came first.
                guard !state.closed, (state.generations[host] ?? 0) == generation, state.released.remove(id) == nil else { return true }
                state.waiters[host, default: [:]][id] = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
        await timer.value
        state.withLock { _ = $0.released.remove(id) }
    }

    /// How many polls of `host` are waiting now (tests wait for one before signalling).
    func waiters(of host: String) -> Int { state.withLock { $0.waiters[host]?.count ?? 0 } }

    /// The collector is stopping: every wait ends now, and later ones at once.
    func close() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Ends `id`'s wait, or marks it released when it has not begun.
    private func release(host: String, id: UUID) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let continuation = state.waiters[host]?.removeValue(forKey: id) else {
                state.released.insert(id)
                return nil
            }
            if state.waiters[host]?.isEmpty == true { state.waiters[host] = nil }
            return continuation
        }
        continuation?.resume()
    }
}
