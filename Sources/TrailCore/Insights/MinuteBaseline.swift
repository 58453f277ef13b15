// SPDX-License-Identifier: Apache-2.0

/// What one key's per-minute counts have been: folded into the 168 hour-of-week slots over a
/// window of whole weeks (a cron job's hour is normal at its hour), and per day over the window
/// for slots not seen yet. Minutes count from the epoch; the week starts Monday 00:00 UTC.
struct MinuteBaseline: Sendable {
    /// Minutes, sum and sum of squares of the counts of one slot in one week (or of one day).
    struct Cell: Sendable {
        var period: Int32
        var minutes: Int32 = 0
        var sum: Double = 0
        var sumOfSquares: Double = 0

        mutating func add(_ count: Int) {
            minutes += 1
            sum += Double(count)
            sumOfSquares += Double(count) * Double(count)
        }
    }

    let windowDays: Int
    /// The least a level is taken to vary by, as a share of its square (see ``expectation(at:)``).
    static let levelSpread = 0.05
    /// By hour-of-week slot: a cell per week of the window and one for this week, kept sparse
    /// (slots seen only).
    private var slots: [Int16: [Cell]] = [:]
    /// A cell per day of the window.
    private var days: [Cell] = []

    init(windowDays: Int) {
        self.windowDays = windowDays
    }

    static func slot(of minute: Int64) -> Int { Int(((minute / 60) + 72) % 168) }  // 1970-01-01 was a Thursday
    static func week(of minute: Int64) -> Int32 { Int32(((minute / 60) + 72) / 168) }
    static func day(of minute: Int64) -> Int32 { Int32(minute / 1440) }

    var weeksInWindow: Int32 { Int32((windowDays + 6) / 7) }

    /// Folds `count`, the count of `minute`.
    mutating func add(_ count: Int, minute: Int64) {
        let week = Self.week(of: minute)
        let slot = Int16(Self.slot(of: minute))
        var cells = slots[slot] ?? []
        cells.removeAll { $0.period < week - weeksInWindow }
        if let index = cells.firstIndex(where: { $0.period == week }) {
            cells[index].add(count)
        } else {
            var cell = Cell(period: week)
            cell.add(count)
            cells.append(cell)
        }
        slots[slot] = cells
        let day = Self.day(of: minute)
        days.removeAll { $0.period <= day - Int32(windowDays) }
        if let index = days.firstIndex(where: { $0.period == day }) {
            days[index].add(count)
        } else {
            var cell = Cell(period: day)
            cell.add(count)
            days.append(cell)
        }
    }

    /// What a minute is expected to hold.
    struct Expectation {
        var mean: Double
        /// Of one minute's count.
        var variance: Double
        /// How much the level itself varies from one week (or day) to another: the counts of
        /// minutes in a row share their level, so their sum varies by this times the square of
        /// their number on top of their own variances.
        var levelVariance: Double
        var fromSlot: Bool
        var historyMinutes: Int
    }

    /// The expected count of `minute` and its variance: its slot's, once the slot holds half an
    /// hour of the window, else the whole window's; with the minutes of history behind it.
    func expectation(at minute: Int64) -> Expectation {
        let week = Self.week(of: minute)
        let day = Self.day(of: minute)
        let window = days.filter { $0.period > day - Int32(windowDays) && $0.period <= day }
        let history = window.reduce(0) { $0 + Int($1.minutes) }
        // This week's minutes of the slot so far, and the slot in each whole week of the window.
        let slotCells = (slots[Int16(Self.slot(of: minute))] ?? []).filter { $0.period >= week - weeksInWindow && $0.period <= week }
        let fromSlot = slotCells.reduce(0) { $0 + Int($1.minutes) } >= 30
        let cells = fromSlot ? slotCells : window
        let minutes = Double(cells.reduce(0) { $0 + Int($1.minutes) })
        guard minutes > 0 else { return Expectation(mean: 0, variance: 0, levelVariance: 0, fromSlot: false, historyMinutes: history) }
        let mean = cells.reduce(0) { $0 + $1.sum } / minutes
        let variance = max(0, cells.reduce(0) { $0 + $1.sumOfSquares } / minutes - mean * mean)
        // The spread of the periods' own means (those of half an hour or more), less what their
        // minutes' noise alone would spread them by.
        // At least: a level may be off by about a fifth (its variance 5 % of its square) from the
        // week (or day) it was learnt in, which a window of one week cannot measure.
        let periods = cells.filter { $0.minutes >= 30 }
        var levelVariance = Self.levelSpread * mean * mean
        if periods.count >= 2 {
            let means = periods.map { $0.sum / Double($0.minutes) }
            let spread = means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(means.count - 1)
            let noise = periods.reduce(0) { $0 + variance / Double($1.minutes) } / Double(periods.count)
            levelVariance = max(levelVariance, spread - noise)
        }
        return Expectation(mean: mean, variance: variance, levelVariance: levelVariance, fromSlot: fromSlot, historyMinutes: history)
    }

    /// Nothing left in the window at `minute`: the key can be forgotten.
    func isEmpty(at minute: Int64) -> Bool {
        let day = Self.day(of: minute)
        return !days.contains { $0.period > day - Int32(windowDays) && $0.sum > 0 }
    }
}
