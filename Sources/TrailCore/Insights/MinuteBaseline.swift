// SPDX-License-Identifier: Apache-2.0

/// What one key's per-minute counts have been: folded into the 168 hour-of-week slots over a
/// window of whole weeks (a cron job's hour is normal at its hour), and per day over the window
/// for slots not seen yet. Minutes count from the epoch; the week starts Monday 00:00 UTC.
///
/// Memory is fixed per key once it counts: a cell of 12 bytes per slot for each week of the window
/// and this one (4,032 bytes for a 7-day window, 10,080 for 28 days), one allocation, plus a cell
/// per day.
struct MinuteBaseline: Sendable {
    /// Minutes, sum and sum of squares of the counts of one slot in one week: 12 bytes.
    struct SlotCell: Sendable {
        /// The week, modulo 2¹⁶ (the cell is reused once the window has passed it).
        var week: UInt16 = 0
        var minutes: UInt8 = 0
        var sum: Float = 0
        var sumOfSquares: Float = 0
    }

    /// The same for one day.
    struct DayCell: Sendable {
        var day: Int32 = 0
        var minutes: Int32 = 0
        var sum: Double = 0
        var sumOfSquares: Double = 0
    }

    let windowDays: Int
    /// The least a level is taken to vary by, as a share of its square (see ``expectation(at:)``).
    static let levelSpread = 0.05
    /// Slot `s` of week `w` is at `s * stride + w % stride`; empty until the first count.
    private var slots: [SlotCell] = []
    /// Day `d` is at `d % windowDays`.
    private var days: [DayCell] = []

    init(windowDays: Int) {
        self.windowDays = windowDays
    }

    static func slot(of minute: Int64) -> Int { Int(((minute / 60) + 72) % 168) }  // 1970-01-01 was a Thursday
    static func week(of minute: Int64) -> Int32 { Int32(((minute / 60) + 72) / 168) }
    static func day(of minute: Int64) -> Int32 { Int32(minute / 1440) }

    var weeksInWindow: Int32 { Int32((windowDays + 6) / 7) }
    /// Cells a slot has: the window's weeks and this one.
    var stride: Int { Int(weeksInWindow) + 1 }

    /// Folds `count`, the count of `minute`.
    mutating func add(_ count: Int, minute: Int64) {
        if slots.isEmpty {
            slots = Array(repeating: SlotCell(), count: 168 * stride)
            days = Array(repeating: DayCell(day: -1), count: windowDays)
        }
        let week = UInt16(truncatingIfNeeded: Self.week(of: minute))
        let index = Self.slot(of: minute) * stride + Int(week) % stride
        if slots[index].minutes == 0 || slots[index].week != week { slots[index] = SlotCell(week: week) }
        let value = Double(count)
        slots[index].minutes &+= slots[index].minutes < .max ? 1 : 0
        slots[index].sum += Float(value)
        slots[index].sumOfSquares += Float(value * value)
        let day = Self.day(of: minute)
        let dayIndex = Int(day) % windowDays
        if days[dayIndex].day != day { days[dayIndex] = DayCell(day: day) }
        days[dayIndex].minutes += 1
        days[dayIndex].sum += value
        days[dayIndex].sumOfSquares += value * value
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
        /// What silence is judged against: the slot once it holds half an hour; until then the
        /// quieter of the hour before's slot (when it holds one) and the whole window, so that
        /// neither a young hour nor a busy day makes an ordinary quiet look like silence.
        var quiet: (mean: Double, variance: Double)?
    }

    /// The expected count of `minute` and its variance: its slot's, once the slot holds half an
    /// hour of the window, else the whole window's; with the minutes of history behind it.
    func expectation(at minute: Int64) -> Expectation {
        guard !slots.isEmpty else { return Expectation(mean: 0, variance: 0, levelVariance: 0, fromSlot: false, historyMinutes: 0, quiet: nil) }
        // The periods: this week's minutes of the slot so far and the slot in each whole week of
        // the window, else the window's days. Walked twice (totals, then the spread of their
        // means) instead of gathered: this runs for every key every minute.
        let week = UInt16(truncatingIfNeeded: Self.week(of: minute))
        let base = Self.slot(of: minute) * stride
        let day = Self.day(of: minute)
        func forEachSlotPeriod(_ body: (_ minutes: Double, _ sum: Double, _ sumOfSquares: Double) -> Void) {
            for index in base..<(base + stride) where slots[index].minutes > 0 && week &- slots[index].week <= UInt16(weeksInWindow) {
                body(Double(slots[index].minutes), Double(slots[index].sum), Double(slots[index].sumOfSquares))
            }
        }
        func forEachDay(_ body: (_ minutes: Double, _ sum: Double, _ sumOfSquares: Double) -> Void) {
            for cell in days where cell.minutes > 0 && cell.day > day - Int32(windowDays) && cell.day <= day {
                body(Double(cell.minutes), cell.sum, cell.sumOfSquares)
            }
        }
        var history = 0.0
        forEachDay { minutes, _, _ in history += minutes }
        var totals = (minutes: 0.0, sum: 0.0, sumOfSquares: 0.0)
        forEachSlotPeriod { totals = (totals.minutes + $0, totals.sum + $1, totals.sumOfSquares + $2) }
        let fromSlot = totals.minutes >= 30
        let forEachPeriod = fromSlot ? forEachSlotPeriod : forEachDay
        if !fromSlot {
            totals = (0, 0, 0)
            forEachDay { totals = (totals.minutes + $0, totals.sum + $1, totals.sumOfSquares + $2) }
        }
        guard totals.minutes > 0 else {
            return Expectation(mean: 0, variance: 0, levelVariance: 0, fromSlot: false, historyMinutes: Int(history), quiet: nil)
        }
        let mean = totals.sum / totals.minutes
        let variance = max(0, totals.sumOfSquares / totals.minutes - mean * mean)
        // At least: a level may be off by about a fifth (its variance 5 % of its square) from the
        // week (or day) it was learnt in, which a window of one week cannot measure. With more
        // periods (of half an hour or more): the spread of their means, less what their minutes'
        // noise alone would spread them by.
        var whole = (count: 0.0, squares: 0.0, noise: 0.0)
        forEachPeriod { minutes, sum, _ in
            guard minutes >= 30 else { return }
            let deviation = sum / minutes - mean
            whole = (whole.count + 1, whole.squares + deviation * deviation, whole.noise + variance / minutes)
        }
        var levelVariance = Self.levelSpread * mean * mean
        if whole.count >= 2 {
            levelVariance = max(levelVariance, whole.squares / (whole.count - 1) - whole.noise / whole.count)
        }
        var quiet: (mean: Double, variance: Double)? = (mean, variance)
        if !fromSlot {
            let earlier = minute - 60
            let earlierWeek = UInt16(truncatingIfNeeded: Self.week(of: earlier))
            let earlierBase = Self.slot(of: earlier) * stride
            var hour = (minutes: 0.0, sum: 0.0, sumOfSquares: 0.0)
            for index in earlierBase..<(earlierBase + stride)
            where slots[index].minutes > 0 && earlierWeek &- slots[index].week <= UInt16(weeksInWindow) {
                hour = (
                    hour.minutes + Double(slots[index].minutes), hour.sum + Double(slots[index].sum),
                    hour.sumOfSquares + Double(slots[index].sumOfSquares)
                )
            }
            if hour.minutes >= 30 {
                let hourMean = hour.sum / hour.minutes
                if hourMean < mean { quiet = (hourMean, max(0, hour.sumOfSquares / hour.minutes - hourMean * hourMean)) }
            } else {
                quiet = nil
            }
        }
        return Expectation(
            mean: mean, variance: variance, levelVariance: levelVariance, fromSlot: fromSlot, historyMinutes: Int(history), quiet: quiet)
    }

    /// Nothing left in the window at `minute`: the key can be forgotten.
    func isEmpty(at minute: Int64) -> Bool {
        let day = Self.day(of: minute)
        return !days.contains { $0.day > day - Int32(windowDays) && $0.day <= day && $0.sum > 0 }
    }
}
