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
/// Each key's counts fold into a ``MinuteBaseline``. Minutes in a row past a multiple of the
/// baseline (a rise or, for a busy key, a drop), at least `startMinutes` of them and past a floor
/// on average, open an Insight (Start) once their counts together, without the most extreme minute,
/// are in the far tail of the baseline (``CountTail``: Poisson, or negative binomial when the
/// counts vary more): one noisy minute opens nothing, and a burst too small to stand out in one
/// minute does in a few. `endMinutes` ordinary minutes close it (End). It speaks after
/// `minimumHistoryMinutes` of history, with `warmUpProbability` until the window is full. The
/// minutes of a run and of an open Insight are kept out of the baseline.
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
        /// A run of minutes is unusual when counts at least as far out are this unlikely.
        public var probability = 1e-6
        /// The same, while the window is not full yet.
        public var warmUpProbability = 1e-9
        /// A rise needs at least this count a minute on average…
        public var minimumCount = 5
        /// …and this many times the baseline; a drop, at most the baseline divided by it.
        public var multiplier = 3.0
        /// A drop is looked for only in keys at least this busy (a count a minute), against their
        /// hour-of-week slot once it has history.
        public var minimumMeanForDrops = 10.0
        /// Minutes in a row past the multiple it takes, at least, to open an Insight.
        public var startMinutes = 2
        /// Ordinary minutes in a row that close it.
        public var endMinutes = 5
        /// Keys followed at most; counts of keys past it are counted in ``overflow`` and dropped.
        public var maximumKeys = 100_000

        public init() {}
    }

    /// What was decided at the close of a minute.
    public struct Decision: Sendable, Equatable {
        public enum State: String, Sendable, CaseIterable { case start = "Start", end = "End" }
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
        let key: Key
        var baseline: MinuteBaseline
        /// Minutes in a row past the multiple, not yet an Insight: first minute, direction, counts,
        /// the baseline's mean at its start, the probability that decided it, the slot.
        var run: (start: Int64, direction: Decision.Direction, counts: [Int], mean: Double, slot: Int?, expected: Double, variance: Double)?
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

        /// Nothing open or under way, and nothing left in the window.
        func isForgettable(at minute: Int64) -> Bool {
            open == nil && run == nil && silence?.open != true && baseline.isEmpty(at: minute)
        }
    }

    public let settings: Settings
    /// Each followed key's state, in an array so that a minute's decisions mutate it in place
    /// (through a dictionary's value, its baseline was copied on every minute), and where it is.
    private var states: [KeyState] = []
    private var positions: [Key: Int] = [:]
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
    public var keyCount: Int { states.count }

    /// Insights open now (started, not yet ended): unusual counts and silences.
    public var openInsights: Int { states.count { $0.open != nil || $0.silence?.open == true } }

    /// Adds `count` to `key`'s count of `minute` (minutes since the epoch), a minute not closed yet;
    /// with `stops`, the count says its source stops (a silence key then waits for it quietly).
    public mutating func count(_ key: Key, minute: Int64, by count: Int = 1, stops: Bool = false) {
        if let lastClosed, minute <= lastClosed {
            late += count
            return
        }
        if positions[key] == nil && !newKeys.contains(key) {
            guard states.count + newKeys.count < settings.maximumKeys else {
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
        for key in counts.keys where positions[key] == nil {
            positions[key] = states.count
            states.append(KeyState(key: key, baseline: MinuteBaseline(windowDays: settings.windowDays)))
        }
        newKeys = Set(pending.values.flatMap(\.keys)).filter { positions[$0] == nil }
        var decisions: [Decision] = []
        var position = 0
        while position < states.count {
            let key = states[position].key
            let count = counts[key] ?? 0
            let decision =
                key.watchesSilence
                ? states[position].decideSilence(key: key, count: count, stops: stops.contains(key), minute: minute, settings: settings)
                : states[position].decide(key: key, count: count, minute: minute, settings: settings)
            if let decision { decisions.append(decision) }
            guard states[position].isForgettable(at: minute) else {
                position += 1
                continue
            }
            // Forgotten: the last state takes its place, and is decided next.
            positions[key] = nil
            if position != states.count - 1 {
                states.swapAt(position, states.count - 1)
                positions[states[position].key] = position
            }
            states.removeLast()
        }
        return decisions
    }

}

extension InsightDetector.Settings {
    /// The window is full once it holds its days but today (today's minutes are still to come).
    func threshold(historyMinutes: Int) -> Double {
        historyMinutes >= (windowDays - 1) * 1440 ? probability : warmUpProbability
    }
}

extension InsightDetector.KeyState {
    typealias Decision = InsightDetector.Decision
    typealias Settings = InsightDetector.Settings

    /// A silence key's minute: a count ends a silence (its Insight's End when it was one); an empty
    /// minute adds its probability to the silence, which opens once their product is unlikely enough.
    mutating func decideSilence(key: Key, count: Int, stops: Bool, minute: Int64, settings: Settings) -> Decision? {
        let expected = baseline.expectation(at: minute)
        if count > 0 {
            baseline.add(count, minute: minute)
            stopped = stops
            defer { silence = nil }
            guard let ended = silence, ended.open else { return nil }
            return Decision(
                key: key, state: .end, direction: .silent, startMinute: ended.start, minute: minute - 1, baselineAverage: ended.mean,
                insightAverage: 0, probability: exp(ended.logProbability), slot: ended.slot, durationMinutes: ended.minutes)
        }
        if silence?.open == true {
            silence!.minutes += 1
            return nil
        }
        // Judged against its own hour of the week (or, while that is young, the quieter of the hour
        // before and the window): a quiet night is not silence from the day.
        guard !stopped, expected.historyMinutes >= settings.minimumHistoryMinutes, let baseline = expected.quiet, baseline.mean > 0 else {
            if !stopped { self.baseline.add(0, minute: minute) }
            return nil
        }
        self.baseline.add(0, minute: minute)
        var quiet = silence ?? (minute, 0, baseline.mean, 0, false, expected.fromSlot ? MinuteBaseline.slot(of: minute) : nil)
        quiet.logProbability += CountTail.logProbabilityOfNone(mean: baseline.mean, variance: baseline.variance)
        quiet.minutes += 1
        quiet.open =
            quiet.minutes >= settings.startMinutes
            && quiet.logProbability < log(settings.threshold(historyMinutes: expected.historyMinutes))
        silence = quiet
        guard quiet.open else { return nil }
        return Decision(
            key: key, state: .start, direction: .silent, startMinute: quiet.start, minute: minute, baselineAverage: quiet.mean,
            insightAverage: 0, probability: exp(quiet.logProbability), slot: quiet.slot, durationMinutes: quiet.minutes)
    }

    /// The most minutes a run is judged over: older ones leave it, folded into the baseline.
    static var maximumRunMinutes: Int { 10 }

    /// A rate key's minute. A minute past half the multiple of its baseline (or, for a busy key,
    /// below it by as much) extends a run; a run of `startMinutes` or more, past the floor and the
    /// multiple on average, opens an Insight once its counts together are unlikely enough without
    /// its most extreme minute (so one noisy minute opens nothing, and a burst too small to stand
    /// out in one minute does in a few). An open Insight goes on while minutes stay past half the
    /// multiple, and ends after `endMinutes` that do not. Minutes of a run or an Insight stay out
    /// of the baseline until the run is over without one.
    mutating func decide(key: Key, count: Int, minute: Int64, settings: Settings) -> Decision? {
        let expected = baseline.expectation(at: minute)
        guard expected.historyMinutes >= settings.minimumHistoryMinutes else {
            baseline.add(count, minute: minute)
            return nil
        }
        let (mean, variance) = (expected.mean, expected.variance)
        // A minute stays in a run or an Insight halfway to the multiple: one dip breaks neither.
        let stay = (1 + settings.multiplier) / 2
        let direction: Decision.Direction?
        if count > 0 && Double(count) >= stay * mean {
            direction = .rise
        } else if expected.fromSlot && mean >= settings.minimumMeanForDrops && Double(count) <= mean / stay {
            // Only against its own hour of the week: a quiet night is not a drop from the day.
            direction = .drop
        } else {
            direction = nil
        }

        if var insight = open {
            if direction == insight.direction {
                // The ordinary minutes between belong to the Insight too.
                insight.total += insight.pendingTotal + count
                insight.pendingTotal = 0
                insight.lastUnusual = minute
                ordinaryRun = 0
                open = insight
                return nil
            }
            insight.pendingTotal += count
            ordinaryRun += 1
            open = insight
            guard ordinaryRun >= settings.endMinutes else { return nil }
            open = nil
            ordinaryRun = 0
            let minutes = Int(insight.lastUnusual - insight.start) + 1
            return Decision(
                key: key, state: .end, direction: insight.direction, startMinute: insight.start, minute: insight.lastUnusual,
                baselineAverage: insight.mean, insightAverage: Double(insight.total) / Double(minutes), probability: insight.probability,
                slot: insight.slot, durationMinutes: minutes)
        }
        guard let direction else {
            foldRun()
            baseline.add(count, minute: minute)
            return nil
        }
        if run?.direction != direction {
            foldRun()
            run = (minute, direction, [], mean, expected.fromSlot ? MinuteBaseline.slot(of: minute) : nil, 0, 0)
        }
        run!.counts.append(count)
        run!.expected += mean
        run!.variance += variance
        if run!.counts.count > Self.maximumRunMinutes {
            // The oldest minute leaves the run at the run's average expectation.
            let n = Double(run!.counts.count)
            run!.expected *= (n - 1) / n
            run!.variance *= (n - 1) / n
            baseline.add(run!.counts.removeFirst(), minute: run!.start)
            run!.start += 1
        }
        guard let current = run, current.counts.count >= settings.startMinutes else { return nil }
        let n = Double(current.counts.count)
        let sum = current.counts.reduce(0, +)
        let average = Double(sum) / n
        let past =
            direction == .rise
            ? average >= Double(settings.minimumCount) && average >= settings.multiplier * current.expected / n
            : average <= current.expected / n / settings.multiplier
        guard past else { return nil }
        // Judged without its most extreme minute, when it has more than one.
        let extreme = n > 1 ? (direction == .rise ? current.counts.max()! : current.counts.min()!) : 0
        let share = n > 1 ? (n - 1) / n : 1
        // Minutes in a row share their level: its spread grows with the square of their number.
        let spread = current.variance * share + expected.levelVariance * (n * share) * (n * share)
        let p =
            direction == .rise
            ? CountTail.upper(sum - extreme, mean: current.expected * share, variance: spread)
            : CountTail.lower(sum - extreme, mean: current.expected * share, variance: spread)
        guard p < settings.threshold(historyMinutes: expected.historyMinutes) else { return nil }
        run = nil
        ordinaryRun = 0
        open = (current.start, current.direction, sum, 0, current.expected / n, p, current.slot, minute)
        return Decision(
            key: key, state: .start, direction: current.direction, startMinute: current.start, minute: minute,
            baselineAverage: current.expected / n, insightAverage: Double(current.counts[0]), probability: p, slot: current.slot,
            durationMinutes: current.counts.count)
    }

    /// A run that opened nothing was ordinary after all: its minutes join the baseline.
    mutating func foldRun() {
        guard let ended = run else { return }
        for (offset, count) in ended.counts.enumerated() { baseline.add(count, minute: ended.start + Int64(offset)) }
        run = nil
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
