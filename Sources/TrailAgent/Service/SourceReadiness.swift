// SPDX-License-Identifier: Apache-2.0

import Synchronization
import TrailCore

/// Whether each of the agent's sources has taken its place: the application socket listens, the
/// journal reader stands at its `--read-from` position, each tailed file is open at its
/// checkpoint or start. `READY=1` waits for all of them (``ReadinessService``), and
/// `GET /v1/health` reports each, so what a script does right after the agent is ready is read.
///
/// A source that cannot start (no journal to open) counts as settled, as `failed` with the
/// reason: it keeps retrying, and readiness is not held hostage to it.
final class SourceReadiness: Sendable {
    enum State: String, Sendable {
        case starting
        case ready
        case failed
    }

    private let states: Mutex<[(name: String, state: State, detail: String?)]>

    /// Sources register as their contexts are made (``SourceContext``): `socket`, `journal`,
    /// `file:/var/log/auth.log`.
    init() {
        states = Mutex([])
    }

    /// Adds a source, `starting`.
    func register(_ name: String) {
        states.withLock { states in
            if !states.contains(where: { $0.name == name }) { states.append((name, .starting, nil)) }
        }
    }

    /// A source that stopped (a tailed file a reload dropped).
    func unregister(_ name: String) {
        states.withLock { $0.removeAll { $0.name == name } }
    }

    func mark(_ name: String, _ state: State, detail: String? = nil) {
        states.withLock { states in
            guard let index = states.firstIndex(where: { $0.name == name }) else { return }
            states[index].state = state
            states[index].detail = detail
        }
    }

    /// Every source is ready, or failed and said why.
    var isSettled: Bool {
        states.withLock { $0.allSatisfy { $0.state != .starting } }
    }

    /// `{"journal": "ready", "file:/var/log/auth.log": "ready", "socket": "ready"}` (a failed one
    /// with its reason: `"failed: …"`).
    var report: JSONValue {
        let states = states.withLock { $0 }
        var members: [String: JSONValue] = [:]
        for source in states {
            members[source.name] = .string(source.detail.map { "\(source.state.rawValue): \($0)" } ?? source.state.rawValue)
        }
        return .object(members)
    }
}
