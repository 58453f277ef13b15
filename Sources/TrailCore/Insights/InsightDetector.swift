// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Finds unusual per-minute counts of any key (a fleet's `(eventSource, eventName)`, one host's
/// failed logins, one user's refusals): minute counts in, Insight decisions out, no I/O and no
/// clock of its own (minutes are given), so a trace of weeks is decided in milliseconds.
///
/// Each key's counts fold into a ``MinuteBaseline``. A closed minute is unusual when its count is
/// in the far tail of its baseline (``CountTail``: Poisson, or negative binomial when the counts
/// vary more) and also past a floor and a multiple of the baseline; a rise or, for a busy key, a
/// drop. `startMinutes` unusual minutes in a row open an Insight (Start); `endMinutes` ordinary ones
/// close it (End): one noisy minute opens nothing. It speaks after `minimumHistoryMinutes` of
/// history, with `warmUpProbability` until the window is full. Unusual minutes and an open
/// Insight's minutes are kept out of the baseline.
///
/// A key that ``InsightDetectorKey/watchesSilence`` (a host's whole activity) is watched for
/// silence instead: empty minutes in a row whose joint probability under the baseline falls below
/// the threshold open an Insight, and its next count closes it. A key told it stops (an agent's
/// `AgentStopped`) is not expected to speak until it counts again.
public struct InsightDetector<Key: InsightDetectorKey>: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Days of history the baseline holds (CloudTrail: 7; up to 28).
        public var windowDays = 7
        /// History needed before the detector speaks at all.
        public var minimumHistoryMinutes = 24 * 60
        /// A minute's count is unusual when a count at least as far out is this unlikely.
        public var probability = 1e-6
        /// The same, while the window is not full yet.
        public var warmUpProbability = 1e-9
        /// A rise needs at least this count in the minute…
        public var minimumCount = 5
        /// …and this many times the baseline; a drop, at most the baseline divided by it.
        public var multiplier = 3.0
        /// A drop is looked for only in keys at least this busy (a count a minute).
        public var minimumMeanForDrops = 10.0
        /// Unusual minutes in a row that open an Insight.
        public var startMinutes = 2
        /// Ordinary minutes in a row that close it.
        public var endMinutes = 5
        /// Keys followed at most; counts of keys past it are counted in ``overflow`` and dropped.
        public var maximumKeys = 100_000

        public init() {}
    }

    /// What was decided at the close of a minute.
    public struct Decision: Sendable, Equatable {
        public enum State: String, Sendable { case start = "Start", end = "End" }
        public enum Direction: String, Sendable { case rise, drop, silent }

        public var key: Key
        public var state: State
        public var direction: Direction
        /// The first unusual minute (both records of one Insight carry it).
        public var startMinute: Int64
        /// The minute decided: the last unusual minute of a Start's run; an End's last minute.
        public var minute: Int64
        /// The baseline's mean count a minute, when the Insight opened.
        public var baselineAverage: Double
        /// A Start: its first unusual minute's count; an End: the mean over the Insight.
        public var insightAverage: Double
        /// The tail probability of the first unusual minute's count.
        public var probability: Double
        /// The hour-of-week slot whose history decided it (`nil`: the whole window's).
        public var slot: Int?
        /// Minutes from the first unusual minute to the last (an End's).
        public var durationMinutes: Int
    }

    struct KeyState: Sendable {
        var baseline: MinuteBaseline
        /// Unusual minutes in a row not yet an Insight: first minute, direction, counts, decision figures.
        var run: (start: Int64, direction: Decision.Direction, counts: [Int], mean: Double, probability: Double, slot: Int?)?
        /// An open Insight; `total` is the count from its first minute to its last unusual one.
        var open:
            (
                start: Int64, direction: Decision.Direction, total: Int, pendingTotal: Int, mean: Double, probability: Double, slot: Int?,
                lastUnusual: Int64
            )?
        var ordinaryRun = 0
        /// A silence key's run of empty minutes: its first, log of its probability, the mean when it
        /// began, its length, and whether it is an Insight yet.
        var silence: (start: Int64, logProbability: Double, mean: Double, minutes: Int, open: Bool, slot: Int?)?
        /// A silence key whose source said it stops: quiet is expected until it counts again.
        var stopped = false
    }

    public let settings: Settings
    private var keys: [Key: KeyState] = [:]
    /// Counts of minutes not closed yet.
    private var pending: [Int64: [Key: Int]] = [:]
    /// Silence keys told they stop, by the minute of the stop.
    private var pendingStops: [Int64: Set<Key>] = [:]
    /// Keys counted in ``pending`` that are not followed yet: they count against the key limit.
    private var newKeys: Set<Key> = []
    /// The last minute closed: counts for it or an earlier one come too late.
    private var lastClosed: Int64?
    /// Counts dropped because ``Settings/maximumKeys`` keys were followed already.
    public private(set) var overflow = 0
    /// Counts dropped because their minute was closed already (or skipped by a later close).
    public private(set) var late = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Keys followed now.
    public var keyCount: Int { keys.count }

    /// Adds `count` to `key`'s count of `minute` (minutes since the epoch), a minute not closed yet;
    /// with `stops`, the count says its source stops (a silence key then waits for it quietly).
    public mutating func count(_ key: Key, minute: Int64, by count: Int = 1, stops: Bool = false) {
        if let lastClosed, minute <= lastClosed {
            late += count
            return
        }
        if keys[key] == nil && !newKeys.contains(key) {
            guard keys.count + newKeys.count < settings.maximumKeys else {
                overflow += count
                return
            }
            newKeys.insert(key)
        }
        pending[minute, default: [:]][key, default: 0] += count
        if stops { pendingStops[minute, default: []].insert(key) }
    }

    /// Closes `minute`: every key followed, and every key counted in it, is decided on its count
    /// (zero when none came) and folded into its baseline. Returns the Starts and Ends, keys in no
    /// particular order.
    public mutating func close(minute: Int64) -> [Decision] {
        lastClosed = max(lastClosed ?? minute, minute)
        let counts = pending.removeValue(forKey: minute) ?? [:]
        let stops = pendingStops.removeValue(forKey: minute) ?? []
        // Minutes before this one that were never closed: their counts can no longer be decided.
        for skipped in pending.keys where skipped < minute {
            late += pending.removeValue(forKey: skipped)?.values.reduce(0, +) ?? 0
        }
        for skipped in pendingStops.keys where skipped < minute { pendingStops[skipped] = nil }
        for key in counts.keys where keys[key] == nil {
            keys[key] = KeyState(baseline: MinuteBaseline(windowDays: settings.windowDays))
        }
        newKeys = Set(pending.values.flatMap(\.keys)).subtracting(keys.keys)
        var decisions: [Decision] = []
        for key in Array(keys.keys) {
            var state = keys[key]!
            let decision =
                key.watchesSilence
                ? decideSilence(&state, key: key, count: counts[key] ?? 0, stops: stops.contains(key), minute: minute)
                : decide(&state, key: key, count: counts[key] ?? 0, minute: minute)
            if let decision { decisions.append(decision) }
            if state.open == nil && state.run == nil && state.silence?.open != true && state.baseline.isEmpty(at: minute) {
                keys[key] = nil
            } else {
                keys[key] = state
            }
        }
        return decisions
    }

    private func threshold(historyMinutes: Int) -> Double {
        historyMinutes >= settings.windowDays * 1440 ? settings.probability : settings.warmUpProbability
    }

    /// A silence key's minute: a count ends a silence (its Insight's End when it was one); an empty
    /// minute adds its probability to the silence, which opens once their product is unlikely enough.
    private func decideSilence(_ state: inout KeyState, key: Key, count: Int, stops: Bool, minute: Int64) -> Decision? {
        let expected = state.baseline.expectation(at: minute)
        if count > 0 {
            state.baseline.add(count, minute: minute)
            state.stopped = stops
            defer { state.silence = nil }
            guard let silence = state.silence, silence.open else { return nil }
            return Decision(
                key: key, state: .end, direction: .silent, startMinute: silence.start, minute: minute - 1, baselineAverage: silence.mean,
                insightAverage: 0, probability: exp(silence.logProbability), slot: silence.slot, durationMinutes: silence.minutes)
        }
        if var silence = state.silence, silence.open {
            silence.minutes += 1
            state.silence = silence
            return nil
        }
        guard !state.stopped, expected.historyMinutes >= settings.minimumHistoryMinutes, expected.mean > 0 else {
            if !state.stopped { state.baseline.add(0, minute: minute) }
            return nil
        }
        state.baseline.add(0, minute: minute)
        var silence =
            state.silence ?? (minute, 0, expected.mean, 0, false, expected.fromSlot ? MinuteBaseline.slot(of: minute) : nil)
        silence.logProbability += CountTail.logProbabilityOfNone(mean: expected.mean, variance: expected.variance)
        silence.minutes += 1
        state.silence = silence
        guard silence.minutes >= settings.startMinutes, silence.logProbability < log(threshold(historyMinutes: expected.historyMinutes))
        else { return nil }
        state.silence?.open = true
        return Decision(
            key: key, state: .start, direction: .silent, startMinute: silence.start, minute: minute, baselineAverage: silence.mean,
            insightAverage: 0, probability: exp(silence.logProbability), slot: silence.slot, durationMinutes: silence.minutes)
    }

    private func decide(_ state: inout KeyState, key: Key, count: Int, minute: Int64) -> Decision? {
        let expected = state.baseline.expectation(at: minute)
        guard expected.historyMinutes >= settings.minimumHistoryMinutes else {
            state.baseline.add(count, minute: minute)
            return nil
        }
        let threshold = threshold(historyMinutes: expected.historyMinutes)
        let (mean, variance) = (expected.mean, expected.variance)
        var unusual: (direction: Decision.Direction, probability: Double)?
        if Double(count) >= max(Double(settings.minimumCount), settings.multiplier * mean) {
            let p = CountTail.upper(count, mean: mean, variance: variance)
            if p < threshold { unusual = (.rise, p) }
        } else if mean >= settings.minimumMeanForDrops && Double(count) <= mean / settings.multiplier {
            let p = CountTail.lower(count, mean: mean, variance: variance)
            if p < threshold { unusual = (.drop, p) }
        }
        let slot = expected.fromSlot ? MinuteBaseline.slot(of: minute) : nil

        if var open = state.open {
            if let unusual, unusual.direction == open.direction {
                // The ordinary minutes between belong to the Insight too.
                open.total += open.pendingTotal + count
                open.pendingTotal = 0
                state.ordinaryRun = 0
                open.lastUnusual = minute
                state.open = open
                return nil
            }
            open.pendingTotal += count
            state.ordinaryRun += 1
            state.open = open
            guard state.ordinaryRun >= settings.endMinutes else { return nil }
            state.open = nil
            state.ordinaryRun = 0
            let minutes = Int(open.lastUnusual - open.start) + 1
            return Decision(
                key: key, state: .end, direction: open.direction, startMinute: open.start, minute: open.lastUnusual,
                baselineAverage: open.mean, insightAverage: Double(open.total) / Double(minutes), probability: open.probability,
                slot: open.slot, durationMinutes: minutes)
        }
        guard let unusual else {
            state.run = nil
            state.baseline.add(count, minute: minute)
            return nil
        }
        var run = state.run ?? (minute, unusual.direction, [], mean, unusual.probability, slot)
        if run.direction != unusual.direction { run = (minute, unusual.direction, [], mean, unusual.probability, slot) }
        run.counts.append(count)
        state.run = run
        guard run.counts.count >= settings.startMinutes else { return nil }
        state.run = nil
        state.ordinaryRun = 0
        state.open = (run.start, run.direction, run.counts.reduce(0, +), 0, run.mean, run.probability, run.slot, minute)
        return Decision(
            key: key, state: .start, direction: run.direction, startMinute: run.start, minute: minute, baselineAverage: run.mean,
            insightAverage: Double(run.counts[0]), probability: run.probability, slot: run.slot, durationMinutes: run.counts.count)
    }
}

/// A key of an ``InsightDetector``.
public protocol InsightDetectorKey: Hashable, Sendable {
    /// Watched for silence (a host's whole activity), not for rises and drops.
    var watchesSilence: Bool { get }
}

/// A plain name is watched for rises and drops.
extension String: InsightDetectorKey {
    public var watchesSilence: Bool { false }
}
