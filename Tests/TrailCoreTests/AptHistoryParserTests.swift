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
        #expect(
            install.requestParameters["install"]
                == .array([
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
        for text in [
            "Start-Date: yesterday\nEnd-Date: today\n", "End-Date: 2026-11-24  16:30:02\n", "\u{0}\u{1}:\n\n",
            String(repeating: "Install: (", count: 1000),
        ] {
            for stanza in stanzas(text) { _ = AptHistoryParser.activity(stanza.fields, utcOffsetSeconds: 0) }
        }
        #expect(AptHistoryParser.activity([("Start-Date", "not a date"), ("End-Date", "x")], utcOffsetSeconds: 0) == nil)
    }

    /// apt's history and dpkg's log of one sudo'd install and a purge by root in the next second,
    /// as apt 2.6 and dpkg 1.21 wrote them on this machine.
    static let installThenPurge = """
        Start-Date: 2026-11-25  02:19:19
        Commandline: apt-get -y install ./probe.deb
        Requested-By: alice (1000)
        Install: hosttrail-probe:amd64 (1.0)
        End-Date: 2026-11-25  02:19:20

        Start-Date: 2026-11-25  02:19:20
        Commandline: apt-get -y purge hosttrail-probe
        Purge: hosttrail-probe:amd64 (1.0)
        End-Date: 2026-11-25  02:19:20
        """

    struct NotARecord: Error { let line: String }

    func dpkgRecord(_ line: String, runs: [AptRun]) throws -> CloudTrailRecord {
        let converter = LogLineConverter(
            builder: HostRecordBuilder(host: HostIdentity(hostname: "web-1", machineID: "0123456789abcdef0123456789abcdef", bootID: nil)))
        let outcome = converter.convert(
            Substring(line), format: .dpkg, reference: Date(), utcOffsetSeconds: 0, notBefore: nil,
            origin: HostRecordBuilder.Origin(source: "file:/var/log/dpkg.log", position: line), aptRuns: runs)
        guard case .record(let record) = outcome else { throw NotARecord(line: line) }
        return record.record
    }

    @Test func dpkgsChangesSayWhichAptRunAskedForThem() throws {
        let runs = stanzas(Self.installThenPurge).compactMap { AptRun(fields: $0.fields, utcOffsetSeconds: 0) }
        #expect(runs.count == 2)
        #expect(
            runs[0].installs == ["hosttrail-probe"] && runs[0].removals.isEmpty && runs[0].requestedBy == "alice" && runs[0].requestedByUID == 1000)
        #expect(runs[1].removals == ["hosttrail-probe"] && runs[1].requestedBy == nil)

        // dpkg says `:all` where apt said `:amd64`; both runs span 02:19:20: the kind of change decides.
        let install = try dpkgRecord("2026-11-25 02:19:20 install hosttrail-probe:all <none> 1.0", runs: runs)
        #expect(install.userIdentity?.userName == "root")
        #expect(install.userIdentity?.sessionContext?.sessionIssuer?.userName == "alice")
        #expect(
            install.requestParameters?["aptRun"]
                == .object([
                    "startTime": "2026-11-25T02:19:19Z", "commandLine": "apt-get -y install ./probe.deb", "requestedBy": "alice",
                    "requestedByUid": 1000,
                ]))
        let remove = try dpkgRecord("2026-11-25 02:19:20 remove hosttrail-probe:all 1.0 <none>", runs: runs)
        #expect(remove.userIdentity?.sessionContext == nil)
        #expect(remove.requestParameters?["aptRun"]?["commandLine"]?.stringValue == "apt-get -y purge hosttrail-probe")

        // Outside every run, or a package no run named: dpkg run by hand, nobody to name.
        for line in [
            "2026-11-25 02:19:21 install hosttrail-probe:all <none> 1.0", "2026-11-25 02:19:19 install other:amd64 <none> 2.0",
            "2026-11-25 02:19:18 remove hosttrail-probe:all 1.0 <none>",
        ] {
            let record = try dpkgRecord(line, runs: runs)
            #expect(record.requestParameters?["aptRun"] == nil && record.userIdentity?.sessionContext == nil, "\(line)")
        }
    }

    @Test func aRunStillGoingIsMatchedButNotForever() throws {
        var assembler = AptHistoryParser.Assembler()
        for line in [
            "Start-Date: 2026-11-25  02:00:00", "Commandline: apt-get upgrade", "Requested-By: bob (1001)",
            "Upgrade: curl:amd64 (7.88.1-10, 7.88.1-10+deb12u5)",
        ] {
            _ = assembler.feed(Substring(line), positionKey: "f", offset: 0)
        }
        let open = try #require(AptRun(fields: assembler.pendingFields, utcOffsetSeconds: 0))
        #expect(open.end == nil)
        let upgrade = try dpkgRecord("2026-11-25 02:05:00 upgrade curl:amd64 7.88.1-10 7.88.1-10+deb12u5", runs: [open])
        #expect(upgrade.userIdentity?.sessionContext?.sessionIssuer?.userName == "bob")
        // A run apt never finished does not claim a dpkg -i of the same package a day later.
        let later = try dpkgRecord("2026-11-26 02:05:00 upgrade curl:amd64 7.88.1-10 7.88.1-10+deb12u5", runs: [open])
        #expect(later.userIdentity?.sessionContext == nil)
        #expect(AptRun(fields: [("Commandline", "apt install x")], utcOffsetSeconds: 0) == nil)
    }
}
