// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore

struct EventSelectorTests {
    @Test(arguments: [
        ("", "must start with include or exclude"),
        ("keep identifier=nginx", "must start with include or exclude"),
        ("include", "needs at least one condition"),
        ("include program=nginx", "is not FIELD=VALUE"),
        ("include identifier", "is not FIELD=VALUE"),
        ("include identifier=", "identifier has no value"),
        ("exclude readOnly=yes", "readOnly must be true or false"),
        ("exclude eventName=A eventName=B", "eventName is given twice"),
    ])
    func badSelectorsSayWhy(text: String, reason: String) {
        let error = #expect(throws: EventSelector.ParseError.self) { try EventSelector(parsing: text) }
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func aSelectorReadsBackAsWritten() throws {
        let selector = try EventSelector(parsing: "exclude  eventSource=sshd.linux eventName=Disconnect,Connect\treadOnly=false")
        #expect(selector.action == .exclude)
        #expect(selector.conditions == [.eventSource: ["sshd.linux"], .eventName: ["Disconnect", "Connect"], .readOnly: ["false"]])
        #expect(selector.description == "exclude eventName=Connect,Disconnect eventSource=sshd.linux readOnly=false")
    }

    static let login = AuthLogParser.parse(identifier: "sshd", message: "Accepted password for alice from 10.0.0.1 port 22 ssh2")
    static let sudo = AuthLogParser.parse(identifier: "sudo", message: "alice : PWD=/srv ; USER=root ; COMMAND=/usr/bin/id")
    static let nginx = AuthLogParser.parse(identifier: "nginx", message: "GET / 200")

    func selectors(_ texts: [String]) throws -> EventSelectors {
        EventSelectors(try texts.map { try EventSelector(parsing: $0) })
    }

    @Test func byDefaultParsedActivityIsKeptAndUnknownLinesAreNot() throws {
        let none = EventSelectors()
        #expect(none.select(Self.login, identifier: "sshd", unit: nil)?.eventName == "Login")
        #expect(none.select(Self.nginx, identifier: "nginx", unit: "nginx.service") == nil)
        #expect(none.select(.ignored, identifier: "sshd", unit: nil) == nil)
    }

    @Test func excludeDropsWhatMatchesEveryCondition() throws {
        let rules = try selectors(["exclude eventSource=sudo.linux eventName=RunCommand"])
        #expect(rules.select(Self.sudo, identifier: "sudo", unit: nil) == nil)
        #expect(rules.select(Self.login, identifier: "sshd", unit: nil) != nil)
        let readOnly = try selectors(["exclude readOnly=false"])
        #expect(readOnly.select(Self.login, identifier: "sshd", unit: nil) == nil)
    }

    @Test func includeKeepsUnknownLinesAsGenericRecords() throws {
        let rules = try selectors(["include identifier=nginx,haproxy"])
        let kept = try #require(rules.select(Self.nginx, identifier: "nginx", unit: "nginx.service"))
        #expect(kept.eventSource == "nginx.linux" && kept.eventName == "LogMessage" && kept.readOnly)
        #expect(kept.requestParameters["unit"]?.stringValue == "nginx.service")
        #expect(rules.select(.unknown, identifier: "kernel", unit: nil) == nil)
        // By unit: only what the journal says ran in it.
        let byUnit = try selectors(["include unit=backup.service"])
        #expect(byUnit.select(.unknown, identifier: "tar", unit: "backup.service")?.eventSource == "tar.linux")
        #expect(byUnit.select(.unknown, identifier: "tar", unit: nil) == nil)
    }

    @Test func excludeWinsOverInclude() throws {
        let rules = try selectors(["include identifier=nginx", "exclude eventSource=nginx.linux"])
        #expect(rules.select(Self.nginx, identifier: "nginx", unit: nil) == nil)
    }

    @Test func journaldIsAskedOnlyForWhatCanBeKept() throws {
        #expect(EventSelectors().journalIncludes?.identifiers == AuthLogParser.identifiers)
        let named = try selectors(["include identifier=nginx", "include unit=backup.service", "exclude eventSource=cron.linux"])
        #expect(named.journalIncludes?.identifiers == AuthLogParser.identifiers + ["nginx"])
        #expect(named.journalIncludes?.units == ["backup.service"])
        // An include that names neither identifiers nor units needs every entry read.
        #expect(try selectors(["include readOnly=true"]).journalIncludes == nil)
    }

    @Test func genericEventSourcesAreTidy() {
        #expect(EventSelectors.genericEventSource("NetworkManager") == "networkmanager.linux")
        #expect(EventSelectors.genericEventSource("(sd-pam)") == "sd-pam.linux")
        #expect(EventSelectors.genericEventSource("") == "syslog.linux")
        #expect(EventSelectors.genericEventSource("a.b/c d") == "abcd.linux")
    }
}
