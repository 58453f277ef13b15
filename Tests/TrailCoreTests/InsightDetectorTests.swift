// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailTestSupport

@testable import TrailCore

/// The detector on generated traces: a daily and weekly rhythm with Poisson noise, an hourly
/// cron spike that is normal, and bursts and drops injected at known minutes.
struct InsightDetectorTests {
    typealias Noise = SeededNoise

    static let monday = WorkingWeek.monday

    /// Working hours are four times as busy as nights, weekdays twice as busy as weekends.
    static func rhythm(_ minute: Int64, base: Double) -> Double {
        WorkingWeek.rate(at: minute, day: 4 * base, night: base)
    }

    /// Runs `days` of minutes from Monday: `counts` gives each minute's count; returns every decision.
    static func run(
        days: Int, settings: InsightDetector<String>.Settings = .init(), counts: (Int64, inout Noise) -> Int
    ) -> [InsightDetector<String>.Decision] {
        var detector = InsightDetector<String>(settings: settings)
        var noise = Noise(seed: 42)
        var decisions: [InsightDetector<String>.Decision] = []
        for minute in monday..<(monday + Int64(days) * 1440) {
            let count = counts(minute, &noise)
            if count > 0 { detector.count("sshd.linux Login", minute: minute, by: count) }
            decisions += detector.close(minute: minute)
        }
        return decisions
    }

    @Test func aSteadyRhythmOpensNothing() {
        let decisions = Self.run(days: 10) { minute, noise in noise.poisson(Self.rhythm(minute, base: 2)) }
        #expect(decisions.isEmpty, "\(decisions)")
    }

    @Test func aBurstOpensOneInsightWithinMinutesAndClosesItAfter() throws {
        let onset = Self.monday + 8 * 1440 + 10 * 60  // Tuesday of the second week, 10:00
        let decisions = Self.run(days: 9) { minute, noise in
            let normal = noise.poisson(Self.rhythm(minute, base: 2))
            return (onset..<(onset + 15)).contains(minute) ? normal + 80 : normal
        }
        #expect(decisions.map(\.state) == [.start, .end], "\(decisions)")
        let start = try #require(decisions.first)
        #expect(start.direction == .rise && start.startMinute == onset && start.minute == onset + 1)  // two unusual minutes in a row
        #expect(start.baselineAverage > 6 && start.baselineAverage < 10, "the 10:00 slot's mean: \(start.baselineAverage)")
        #expect(start.insightAverage >= 80 && start.probability < 1e-6 && start.slot == MinuteBaseline.slot(of: onset))
        let end = try #require(decisions.last)
        #expect(end.startMinute == onset && end.minute == onset + 14 && end.durationMinutes == 15)
        #expect(end.insightAverage > 80 && end.insightAverage < 100)
    }

    @Test func aBusyKeyFallingSilentIsADrop() throws {
        let onset = Self.monday + 8 * 1440 + 14 * 60
        let decisions = Self.run(days: 9) { minute, noise in
            (onset..<(onset + 20)).contains(minute) ? 0 : noise.poisson(30)
        }
        #expect(decisions.map(\.state) == [.start, .end], "\(decisions)")
        #expect(decisions.allSatisfy { $0.direction == .drop && $0.startMinute == onset })
        #expect(decisions.last?.durationMinutes == 20)
    }

    @Test func anHourlyCronSpikeIsNormal() {
        // A backup at every full hour: 60 events in that minute, one a minute otherwise.
        let decisions = Self.run(days: 10) { minute, noise in minute % 60 == 0 ? 60 + noise.poisson(1) : noise.poisson(1) }
        #expect(decisions.isEmpty, "\(decisions)")
    }

    @Test func nothingIsSaidBeforeADayOfHistoryOrForOneNoisyMinute() {
        let early = Self.monday + 10 * 60
        let lone = Self.monday + 8 * 1440 + 11 * 60
        let decisions = Self.run(days: 9) { minute, noise in
            let normal = noise.poisson(Self.rhythm(minute, base: 2))
            return (early..<(early + 30)).contains(minute) || minute == lone ? normal + 200 : normal
        }
        #expect(decisions.isEmpty, "\(decisions)")
    }

    @Test func keysPastTheLimitAreCountedNotFollowed() {
        var settings = InsightDetector<String>.Settings()
        settings.maximumKeys = 2
        var detector = InsightDetector<String>(settings: settings)
        // New keys in two open minutes count against the one limit.
        for (name, minute) in [("a", 0), ("b", 1), ("c", 0), ("c", 1), ("a", 1)] { detector.count(name, minute: Int64(minute), by: 3) }
        #expect(detector.overflow == 6)
        _ = detector.close(minute: 0)
        _ = detector.close(minute: 1)
        #expect(detector.keyCount == 2)
    }

    @Test func countsForAClosedOrSkippedMinuteAreCountedAsLate() {
        var detector = InsightDetector<String>()
        detector.count("a", minute: 5, by: 2)
        detector.count("a", minute: 6, by: 4)
        _ = detector.close(minute: 6)  // minute 5 was never closed
        detector.count("a", minute: 6, by: 1)
        detector.count("a", minute: 3, by: 1)
        #expect(detector.late == 4)
        detector.count("a", minute: 7, by: 1)
        #expect(detector.late == 4 && detector.keyCount == 1)
    }

    /// A host's activity (a silence key) on a rhythm; `silent` minutes have none; `stopAt` counts
    /// an `AgentStopped` first.
    static func runSilence(days: Int, silent: Range<Int64>, stopAt: Int64? = nil, base: Double = 2, cron: Bool = false) -> [InsightDetector<
        InsightKey
    >.Decision] {
        var detector = InsightDetector<InsightKey>()
        var noise = Noise(seed: 7)
        let host = InsightKey.activity(of: "web-01")
        var decisions: [InsightDetector<InsightKey>.Decision] = []
        for minute in monday..<(monday + Int64(days) * 1440) {
            if minute == stopAt { detector.count(host, minute: minute, by: 1, stops: true) }
            let count = cron ? (minute % 60 == 0 ? 5 : 0) : noise.poisson(rhythm(minute, base: base))
            if !silent.contains(minute) && minute != stopAt && count > 0 { detector.count(host, minute: minute, by: count) }
            decisions += detector.close(minute: minute)
        }
        return decisions
    }

    /// A host that stops talking without saying it stops is `HostSilent` once its silence is as
    /// unlikely as the threshold asks (Tuesday 10:00, 8 a minute: the sixth minute under the
    /// warm-up's 10⁻⁹, as ln 10⁻⁹ ≈ −20.7), and the silence ends at its next record.
    @Test func aHostFallingSilentIsHostSilentUntilItSpeaksAgain() throws {
        let onset = Self.monday + 8 * 1440 + 10 * 60
        let decisions = Self.runSilence(days: 9, silent: onset..<(onset + 40))
        #expect(decisions.map(\.state) == [.start, .end], "\(decisions)")
        let start = try #require(decisions.first)
        #expect(start.direction == .silent && start.startMinute == onset && start.minute < onset + 5 && start.probability < 1e-6)
        #expect(start.baselineAverage > 6 && start.baselineAverage < 10 && start.insightAverage == 0)
        let end = try #require(decisions.last)
        #expect(end.startMinute == onset && end.minute == onset + 39 && end.durationMinutes == 40)
        // The same silence at night, at a quarter of the rate, takes four times as long to say so.
        let night = Self.monday + 8 * 1440 + 2 * 60
        let quiet = Self.runSilence(days: 9, silent: night..<(night + 40))
        #expect(quiet.first.map { $0.minute - night } ?? 0 > (start.minute - onset) * 3, "\(quiet)")
    }

    /// In the first week an hour's slot is young for its first half hour: silence is judged then
    /// against the quieter of the hour before and the whole window, and still found.
    @Test func silenceInAYoungHourIsFoundAgainstTheHourBefore() throws {
        let onset = Self.monday + 1440 + 10 * 60 + 2  // Tuesday 10:02 of the first week
        let decisions = Self.runSilence(days: 2, silent: onset..<(onset + 30))
        let start = try #require(decisions.first)
        #expect(start.state == .start && start.startMinute == onset && start.minute < onset + 10, "\(start.minute - onset)")
    }

    /// An agent that said it stops is not silent, however long it stays down; a host quiet but for
    /// an hourly job is not silent between its runs; a weekend of normal quiet opens nothing.
    @Test func aStoppedOrNaturallyQuietHostIsNotSilent() {
        let stop = Self.monday + 8 * 1440 + 10 * 60
        #expect(Self.runSilence(days: 9, silent: stop..<(stop + 600), stopAt: stop).isEmpty)
        #expect(Self.runSilence(days: 9, silent: 0..<0, cron: true).isEmpty)
        let quiet = Self.runSilence(days: 14, silent: 0..<0, base: 0.5)
        #expect(quiet.count == 0, "\(quiet.map { ($0.state, $0.startMinute - Self.monday, $0.durationMinutes, $0.baselineAverage, $0.probability) })")
    }

    @Test func tailProbabilitiesMatchKnownValues() {
        // Poisson(2): P(X ≥ 6) = 0.016563608…; P(X ≤ 0) = e^-2.
        #expect(abs(CountTail.upper(6, mean: 2, variance: 2) - 0.0165636) < 1e-6)
        #expect(abs(CountTail.lower(0, mean: 2, variance: 2) - 0.1353353) < 1e-6)
        // A wider spread (negative binomial) makes the same count far less surprising.
        #expect(CountTail.upper(20, mean: 2, variance: 40) > 1000 * CountTail.upper(20, mean: 2, variance: 2))
    }
}
