// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

struct TrailTimeTests {
    @Test(arguments: [
        ("2026-11-24T16:30:30Z", 1_795_537_830.0),
        ("2026-11-24T16:30:30.5Z", 1_795_537_830.5),
        ("2026-11-24T17:30:30+01:00", 1_795_537_830.0),
        ("2026-11-24T16:30:30.862366+00:00", 1_795_537_830.862366),
        ("2026-11-24 16:30:30Z", 1_795_537_830.0),
        ("2026-11-24", 1_795_478_400.0),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func parsesISO8601(text: String, epoch: Double) throws {
        let date = try #require(TrailTime.parseISO8601(text))
        #expect(abs(date.timeIntervalSince1970 - epoch) < 0.000_01)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-24T16:30:30", "2026-11-24T25:00:00Z", "2026-11-24T16:30:30Zjunk",
        // Outside years 0001–9999, also through an offset (it was stored as 0000-01-01…).
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01",
    ])
    func rejectsWhatIsNotATime(text: String) {
        #expect(TrailTime.parseISO8601(text) == nil)
    }

    @Test func theEndsOfTheRangeAreTimes() throws {
        #expect(TrailTime.format(try #require(TrailTime.parseISO8601("0001-01-01T00:00:00Z"))) == "0001-01-01T00:00:00Z")
        #expect(TrailTime.format(try #require(TrailTime.parseISO8601("9999-12-31T23:59:59Z"))) == "9999-12-31T23:59:59Z")
        #expect(TrailTime.format(try #require(TrailTime.parseISO8601("9999-12-31T23:59:59+23:59"))) == "9999-12-31T00:00:59Z")
    }

    @Test func formatsAtSecondPrecisionInUTC() {
        #expect(TrailTime.format(Date(timeIntervalSince1970: 1_795_537_830.9)) == "2026-11-24T16:30:30Z")
        #expect(TrailTime.formatEpochSeconds(0) == "1970-01-01T00:00:00Z")
        #expect(TrailTime.formatEpochSeconds(951_782_400) == "2000-02-29T00:00:00Z")
        // Outside years 0001-9999 (a value from a host): clamped, never trapped or overrun.
        #expect(TrailTime.formatEpochSeconds(.min) == "0001-01-01T00:00:00Z" && TrailTime.formatEpochSeconds(.max) == "9999-12-31T23:59:59Z")
    }

    @Test func formatAndParseAgreeOverManyDays() throws {
        for seconds in stride(from: Int64(-86_400 * 400), to: Int64(86_400 * 365 * 60), by: 86_400 * 7 + 3_671) {
            let text = TrailTime.formatEpochSeconds(seconds)
            #expect(try #require(TrailTime.parseISO8601(text)).timeIntervalSince1970 == Double(seconds))
        }
    }

    @Test func relativeTimesCountBackFromNow() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(TrailTime.parse("1h", now: now) == Date(timeIntervalSince1970: 1_000_000 - 3600))
        #expect(TrailTime.parse("30m", now: now) == Date(timeIntervalSince1970: 1_000_000 - 1800))
        #expect(TrailTime.parse("7d", now: now) == Date(timeIntervalSince1970: 1_000_000 - 604_800))
        #expect(TrailTime.parse("1714554000", now: now) == Date(timeIntervalSince1970: 1_714_554_000))
        #expect(TrailTime.parse("1x", now: now) == nil)
        // Out of range is not a time (and must not trap when converted to milliseconds).
        #expect(TrailTime.parse("99999999999999999999999", now: now) == nil)
        #expect(TrailTime.parse("99999999999999999h", now: now) == nil)
    }
}
