// SPDX-License-Identifier: Apache-2.0

/// The agent's memory of its responses, without I/O: what is in force and until when, what each
/// request came to (so one delivered twice is done once), and how often each target was responded
/// to (the escalation's step, fail2ban's `bantime.increment`). The agent persists it (durably)
/// before it acts, so a revert is on disk before the ban or lock it undoes exists, and a restart
/// finds every response still to end.
public struct ResponseBook: Sendable, Codable, Equatable {
    /// A response in force.
    public struct Active: Sendable, Codable, Equatable {
        public var action: ResponseAction
        /// Seconds since the epoch.
        public var expiresAt: Int64
        /// `lock-account`: the account's password was locked before (so the end leaves it locked).
        public var wasLockedBefore: Bool
        /// Ending it failed this many times; tried again at ``retryAt``.
        public var endFailures: Int?
        public var retryAt: Int64?

        public var requestID: String { action.request.id }
        /// When it is next due to end: its expiry, or its retry after a failed end.
        public var dueAt: Int64 { max(expiresAt, retryAt ?? expiresAt) }
    }

    /// What a request came to: what its acknowledgement and `responses list` say.
    public struct Outcome: Sendable, Codable, Equatable {
        public enum State: String, Sendable, Codable {
            case performed, refused, failed, expired, reverted
        }
        public var state: State
        public var errorCode: String?
        public var message: String?
        /// `performed`: when it ends (seconds since the epoch).
        public var expiresAt: Int64?

        public init(state: State, errorCode: String? = nil, message: String? = nil, expiresAt: Int64? = nil) {
            self.state = state
            self.errorCode = errorCode
            self.message = message
            self.expiresAt = expiresAt
        }
    }

    struct Offences: Sendable, Codable, Equatable {
        var count: Int
        var last: Int64
    }

    /// In force, by request ID.
    public private(set) var active: [String: Active] = [:]
    private(set) var outcomes: [String: Outcome] = [:]
    /// Request IDs in the order they were answered: the oldest outcomes are forgotten first.
    private var answered: [String] = []
    private var offences: [String: Offences] = [:]
    /// A request answered by a response already in force → that response's request ID: a revert
    /// of either ends it.
    private var aliases: [String: String] = [:]
    /// Performed, their record not yet committed: recorded at the next start if the agent stops first.
    public private(set) var unrecorded: Set<String> = []

    /// Outcomes remembered: a request delivered again after this many newer ones is done again
    /// only if its deadline has not passed (the policy refuses stale ones).
    static let rememberedOutcomes = 10_000
    /// A target not responded to for a week starts again at the escalation's first step.
    static let offenceMemorySeconds: Int64 = 7 * 86_400
    static let rememberedTargets = 100_000

    public init() {}

    /// What `id` came to, when it was answered.
    public func outcome(of id: String) -> Outcome? { outcomes[id] }

    /// How often `action`'s target was responded to before, as of `now`.
    public func offences(of request: ResponseRequest, now: Int64) -> Int {
        guard let key = Self.targetKey(request), let known = offences[key], now - known.last < Self.offenceMemorySeconds else { return 0 }
        return known.count
    }

    /// The response in force at `now` for the same response and target as `request` (an address,
    /// an account): asked again (a host rule and a fleet rule both fired), it is not done twice,
    /// nor counted as another offence.
    public func inForce(like request: ResponseRequest, now: Int64) -> Active? {
        guard let key = Self.targetKey(request) else { return nil }
        return active.values.first { Self.targetKey($0.action.request) == key && $0.expiresAt > now }
    }

    /// Enters `action` as performed, in force until its duration ends. The caller persists the
    /// book, then acts; if acting fails, ``failed(_:code:message:)`` takes it back.
    public mutating func begin(_ action: ResponseAction, now: Int64, wasLockedBefore: Bool = false) {
        let expiresAt = now + action.seconds
        active[action.request.id] = Active(action: action, expiresAt: expiresAt, wasLockedBefore: wasLockedBefore)
        if let key = Self.targetKey(action.request) {
            offences[key] = Offences(count: action.offence, last: now)
            if offences.count > Self.rememberedTargets, let oldest = offences.min(by: { $0.value.last < $1.value.last })?.key {
                offences[oldest] = nil
            }
        }
        unrecorded.insert(action.request.id)
        answer(action.request.id, Outcome(state: .performed, expiresAt: expiresAt))
    }

    /// The records of everything performed are committed.
    public mutating func markRecorded() { unrecorded.removeAll() }

    /// The revert request `id` was carried out (the response it names has ``ended(_:state:)``).
    public mutating func performedRevert(_ id: String) {
        answer(id, Outcome(state: .performed))
    }

    /// Acting on `id` failed: it is not in force, and does not count as an offence.
    public mutating func failed(_ id: String, code: String, message: String) {
        unrecorded.remove(id)
        if let entry = active.removeValue(forKey: id), let key = Self.targetKey(entry.action.request) {
            let previous = entry.action.offence - 1
            offences[key] = previous > 0 ? Offences(count: previous, last: offences[key]?.last ?? 0) : nil
        }
        answer(id, Outcome(state: .failed, errorCode: code, message: message))
    }

    public mutating func refused(_ id: String, code: String, message: String) {
        answer(id, Outcome(state: .refused, errorCode: code, message: message))
    }

    /// The responses due to end at `now` (their duration over, or a failed end's retry due), the
    /// earliest first.
    public func due(now: Int64) -> [Active] {
        active.values.filter { $0.dueAt <= now }.sorted { ($0.dueAt, $0.requestID) < ($1.dueAt, $1.requestID) }
    }

    /// When the next response in force is due to end; `nil` when none is.
    public var nextExpiry: Int64? { active.values.map(\.dueAt).min() }

    /// Ending `id` failed at `now`: tried again after a back-off (30 s, doubling, at most an hour).
    public mutating func endFailed(_ id: String, now: Int64) {
        guard var entry = active[id] else { return }
        let failures = (entry.endFailures ?? 0) + 1
        entry.endFailures = failures
        entry.retryAt = now + min(3600, 30 << min(failures - 1, 7))
        active[id] = entry
    }

    /// The response in force that request `id` made or was answered by (``alias(_:of:)``).
    public func inForce(byRequest id: String) -> Active? {
        active[id] ?? aliases[id].flatMap { active[$0] }
    }

    /// Request `id` asked for what `existing` already does: answered by it, not done again.
    public mutating func alias(_ id: String, of existing: Active) {
        aliases[id] = existing.requestID
        answer(id, Outcome(state: .performed, message: "in force by request \(existing.requestID)", expiresAt: existing.expiresAt))
    }

    /// The revert request `id` could not end what it names (still in force, tried again later).
    public mutating func failedRevert(_ id: String, code: String, message: String) {
        answer(id, Outcome(state: .failed, errorCode: code, message: message))
    }

    /// `id` ended (its duration, or a revert): no longer in force.
    public mutating func ended(_ id: String, state: Outcome.State) {
        guard active.removeValue(forKey: id) != nil else { return }
        unrecorded.remove(id)
        aliases = aliases.filter { $0.value != id }
        answer(id, Outcome(state: state))
    }

    private mutating func answer(_ id: String, _ outcome: Outcome) {
        if outcomes.updateValue(outcome, forKey: id) == nil { answered.append(id) }
        if answered.count > Self.rememberedOutcomes {
            let forgotten = answered.count - Self.rememberedOutcomes
            for old in answered.prefix(forgotten) where active[old] == nil { outcomes[old] = nil }
            answered.removeFirst(forgotten)
        }
    }

    /// Offences are counted per response and target: an address, an account.
    static func targetKey(_ request: ResponseRequest) -> String? {
        if let address = request.arguments["address"], let bytes = IPAddressBytes.parse(address) {
            return "\(request.response) address \(IPAddressBytes.format(bytes))"
        }
        if let account = request.arguments["account"] { return "\(request.response) account \(account)" }
        return nil
    }
}
