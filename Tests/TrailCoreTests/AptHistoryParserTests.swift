// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

struct AptHistoryParserTests {
    /// Stanzas as apt 2.6 (Debian 12) writes them.
    static let log = """
        Start-Date: 2026-11-24  16:30:01
        Commandline: apt-get install -y nginx
        Requested-By: alice (1000)
        Install: nginx:amd64 (1.22.1-9), nginx-common:amd64 (1.22.1-9, automatic)
        End-Date: 2026-11-24  16:30:05

        Start-Date: 2026-11-24  17:00:00
        Commandline: /usr/bin/unattended-upgrade
        Upgrade: curl:amd64 (7.88.1-10, 7.88.1-10+deb12u5), libcurl4:amd64 (7.88.1-10, 7.88.1-10+deb12u5)
        End-Date: 2026-11-24  17:00:09

        Start-Date: 2026-11-24  18:00:00
        Commandline: apt purge telnet
        Requested-By: bob (1001)
        Purge: telnet:amd64 (0.17+2.4-2)
        Remove: inetutils-telnet:amd64 (2:2.4-2)
        Error: Sub-process /usr/bin/dpkg returned an error code (1)
        End-Date: 2026-11-24  18:00:02

        """

    /// Where each `Start-Date` line begins, counted independently of the assembler.
    static var startOffsets: [Int] {
        var offsets: [Int] = []
        var searchFrom = log.startIndex
        while let found = log[searchFrom...].range(of: "Start-Date:") {
            offsets.append(log.utf8.distance(from: log.startIndex, to: found.lowerBound))
            searchFrom = found.upperBound
        }
        return offsets
    }

    func stanzas(_ text: String, from: Int = 0) -> [(fields: [(String, String)], start: Int)] {
        var assembler = AptHistoryParser.Assembler()
        var done: [(fields: [(String, String)], start: Int)] = []
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if offset >= from, let stanza = assembler.feed(line, positionKey: "f", offset: offset) { done.append(stanza) }
            offset += line.utf8.count + 1
        }
        return done
    }

    @Test func eachStanzaBecomesOneActivityWithWhoAskedForIt() throws {
        let all = stanzas(Self.log)
        #expect(all.map(\.start) == Self.startOffsets)
        let (install, time) = try #require(AptHistoryParser.activity(all[0].fields, utcOffsetSeconds: 3600))
        #expect(install.eventSource == "apt.linux" && install.eventName == "InstallPackages")
        #expect(install.userName == "alice" && install.uid == 1000)
        #expect(time == TrailTime.parseISO8601("2026-11-24T15:30:01Z"))
        #expect(install.requestParameters["commandLine"]?.stringValue == "apt-get install -y nginx")
        #expect(install.requestParameters["install"] == .array([
            .object(["package": "nginx", "architecture": "amd64", "version": "1.22.1-9"]),
            .object(["package": "nginx-common", "architecture": "amd64", "version": "1.22.1-9", "automatic": true]),
        ]))

        let (upgrade, _) = try #require(AptHistoryParser.activity(all[1].fields, utcOffsetSeconds: 0))
        #expect(upgrade.eventName == "UpgradePackages" && upgrade.userName == "root" && upgrade.uid == 0)
        #expect(upgrade.requestParameters["upgrade"]?.arrayValue?.first?["toVersion"]?.stringValue == "7.88.1-10+deb12u5")

        let (failed, _) = try #require(AptHistoryParser.activity(all[2].fields, utcOffsetSeconds: 0))
        #expect(failed.eventName == "ChangePackages" && failed.userName == "bob")
        #expect(failed.errorCode == "PackageOperationFailed")
        #expect(failed.errorMessage == "Sub-process /usr/bin/dpkg returned an error code (1)")
        #expect(failed.requestParameters["purge"] != nil && failed.requestParameters["remove"] != nil)
    }

    @Test func aStanzaBegunBeforeReadingStartedIsNotGuessedAt() {
        // Starting in the middle of the first stanza: only the two complete ones that follow.
        #expect(stanzas(Self.log, from: 40).map(\.start) == Array(Self.startOffsets.dropFirst()))
    }

    @Test func theAssemblerSaysWhereAnUnfinishedStanzaBegan() {
        var assembler = AptHistoryParser.Assembler()
        #expect(assembler.feed("Start-Date: 2026-11-24  16:30:01", positionKey: "f", offset: 100) == nil)
        #expect(assembler.feed("Commandline: apt install x", positionKey: "f", offset: 133) == nil)
        #expect(assembler.pendingStart?.offset == 100)
        #expect(assembler.feed("End-Date: 2026-11-24  16:30:02", positionKey: "f", offset: 160)?.start == 100)
        #expect(assembler.pendingStart == nil)
    }

    @Test func aRunAptNeverFinishedIsRecordedWhenTheNextBegins() throws {
        var assembler = AptHistoryParser.Assembler()
        #expect(assembler.feed("Start-Date: 2026-11-24  16:30:01", positionKey: "f", offset: 0) == nil)
        #expect(assembler.feed("Requested-By: alice (1000)", positionKey: "f", offset: 33) == nil)
        #expect(assembler.feed("Install: nginx:amd64 (1.22.1-9)", positionKey: "f", offset: 60) == nil)
        // apt was killed: no End-Date, and the next run starts.
        let next = assembler.feed("Start-Date: 2026-11-24  16:40:00", positionKey: "f", offset: 92)
        let interrupted = try #require(next)
        #expect(interrupted.start == 0)
        #expect(assembler.pendingStart?.offset == 92)
        let (activity, _) = try #require(AptHistoryParser.activity(interrupted.fields, utcOffsetSeconds: 0))
        #expect(activity.eventName == "InstallPackages" && activity.userName == "alice")
        #expect(activity.errorCode == "PackageOperationInterrupted")
        // The next run is whole on its own.
        let whole = assembler.feed("End-Date: 2026-11-24  16:40:05", positionKey: "f", offset: 125)
        #expect(whole?.fields.map(\.0) == ["Start-Date", "End-Date"])
    }

    @Test func brokenStanzasNeverCrash() {
        for text in ["Start-Date: yesterday\nEnd-Date: today\n", "End-Date: 2026-11-24  16:30:02\n", "\u{0}\u{1}:\n\n", String(repeating: "Install: (", count: 1000)] {
            for stanza in stanzas(text) { _ = AptHistoryParser.activity(stanza.fields, utcOffsetSeconds: 0) }
        }
        #expect(AptHistoryParser.activity([("Start-Date", "not a date"), ("End-Date", "x")], utcOffsetSeconds: 0) == nil)
    }
}
