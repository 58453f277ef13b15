// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCore

/// First-seen activity: what is new is said once, after the warm-up, about users with history.
struct FirstSeenDetectorTests {
    static let monday: Int64 = 29_923_200

    /// Two days of alice's usual activity on web-01: a sudo at 09:00 and a login from 10.0.0.1 at 10:00 each day.
    static func usual() -> FirstSeenDetector {
        var detector = FirstSeenDetector()
        for day in 0..<2 {
            let base = monday + Int64(day) * 1440
            #expect(sudo(&detector, user: "alice", host: "web-01", minute: base + 9 * 60).isEmpty)
            #expect(login(&detector, user: "alice", from: "10.0.0.1", minute: base + 10 * 60).isEmpty)
        }
        return detector
    }

    static func sudo(_ detector: inout FirstSeenDetector, user: String, host: String, minute: Int64) -> [FirstSeenDetector.Finding] {
        detector.observe(
            eventSource: "sudo.linux", eventName: "RunCommand", user: user, host: host, sourceIPAddress: "localhost", succeeded: true, minute: minute)
    }

    static func login(
        _ detector: inout FirstSeenDetector, user: String, from address: String, succeeded: Bool = true, minute: Int64
    ) -> [FirstSeenDetector.Finding] {
        detector.observe(
            eventSource: "sshd.linux", eventName: "Login", user: user, host: "web-01", sourceIPAddress: address, succeeded: succeeded,
            minute: minute)
    }

    @Test func aUsersFirstSudoOnAHostIsSaidOnce() {
        var detector = Self.usual()
        let wednesday = Self.monday + 2 * 1440 + 9 * 60
        #expect(Self.sudo(&detector, user: "alice", host: "web-01", minute: wednesday).isEmpty)
        let first = Self.sudo(&detector, user: "alice", host: "db-01", minute: wednesday + 1)
        #expect(first.map(\.kind) == [.firstSudo] && first.first?.host == "db-01")
        #expect(Self.sudo(&detector, user: "alice", host: "db-01", minute: wednesday + 2).isEmpty)
    }

    @Test func aNewAddressIsSaidAndAFailedLoginIsNot() {
        var detector = Self.usual()
        let wednesday = Self.monday + 2 * 1440
        #expect(Self.login(&detector, user: "alice", from: "203.0.113.9", succeeded: false, minute: wednesday + 10 * 60 + 5).isEmpty)
        let address = Self.login(&detector, user: "alice", from: "203.0.113.9", minute: wednesday + 10 * 60 + 6)
        #expect(address.map(\.kind) == [.newSourceAddress] && address.first?.value == "203.0.113.9")
        #expect(Self.login(&detector, user: "alice", from: "203.0.113.9", minute: wednesday + 10 * 60 + 7).isEmpty)
    }

    /// An hour of the week is new only to a user seen for the whole window: after a week of
    /// logins at 10:00, one at 03:00 is said, and the usual 10:00 is not.
    @Test func aLoginAtANewHourOfTheWeekIsSaidOnceTheWeekIsKnown() {
        var detector = FirstSeenDetector()
        for day in 0..<8 {
            let findings = Self.login(&detector, user: "alice", from: "10.0.0.1", minute: Self.monday + Int64(day) * 1440 + 10 * 60)
            #expect(findings.isEmpty, "day \(day): \(findings)")
        }
        let night = Self.monday + 8 * 1440 + 3 * 60
        let findings = Self.login(&detector, user: "alice", from: "10.0.0.1", minute: night)
        #expect(findings.map(\.kind) == [.unusualLoginHour] && findings.first?.value == String(MinuteBaseline.slot(of: night)))
    }

    /// Nothing is said in the first day, nor about a user seen for less than a day: a new
    /// account's every first is not news. What the window no longer holds is new again.
    @Test func warmUpNewUsersAndForgetting() {
        var detector = FirstSeenDetector()
        #expect(Self.sudo(&detector, user: "alice", host: "web-01", minute: Self.monday).isEmpty)
        #expect(Self.sudo(&detector, user: "alice", host: "db-01", minute: Self.monday + 60).isEmpty)
        var usual = Self.usual()
        #expect(Self.sudo(&usual, user: "bob", host: "web-01", minute: Self.monday + 3 * 1440).isEmpty)
        #expect(Self.login(&usual, user: "bob", from: "10.0.0.2", minute: Self.monday + 3 * 1440 + 5).isEmpty)
        // Alice keeps using sudo daily; her last login from 10.0.0.1 was on day 1. On day 11 it is
        // more than the window (and a day) behind: new again.
        for day in 2..<11 { _ = Self.sudo(&usual, user: "alice", host: "web-01", minute: Self.monday + Int64(day) * 1440 + 9 * 60) }
        let later = Self.monday + 11 * 1440 + 10 * 60
        #expect(Self.login(&usual, user: "alice", from: "10.0.0.1", minute: later).map(\.kind).contains(.newSourceAddress))
    }

    @Test func entriesPastTheLimitAreCountedNotKept() {
        var settings = FirstSeenDetector.Settings()
        settings.maximumEntries = 3
        var detector = FirstSeenDetector(settings: settings)
        for index in 0..<5 { _ = Self.sudo(&detector, user: "user\(index)", host: "web-01", minute: Self.monday) }
        #expect(detector.entryCount == 3 && detector.overflow == 7)
    }
}
