// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import CurlTransport
import Foundation
import TrailCLI
import TrailCore

@main
struct HostTrailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosttrail",
        abstract: "HostTrail's command line: look up events, make development certificates.",
        version: HostTrailVersion.current,
        subcommands: [Lookup.self, DevCerts.self]
    )
}

struct Lookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look up events in a collector, newest first (filters are ANDed).")

    @Option(help: "Collector URL, e.g. https://127.0.0.1:8443.") var collector: String
    @Option(help: "CA certificate of the collector (PEM).") var ca: String?
    @Option(help: "Client certificate (PEM).") var cert: String?
    @Option(help: "Client key (PEM).") var key: String?
    @Option(help: "Events by this user (for sudo and su, also the invoking user).") var user: String?
    @Option(name: .customLong("event-name"), help: "Events with this name.") var eventName: String?
    @Option(name: .customLong("event-source"), help: "Events from this source, e.g. sshd.linux.") var eventSource: String?
    @Option(help: "Events from this host.") var host: String?
    @Option(name: .customLong("event-id"), help: "The event with this ID.") var eventID: String?
    @Option(name: .customLong("start-time"), help: "Not before: ISO 8601 or relative (30m, 1h, 7d).") var startTime: String?
    @Option(name: .customLong("end-time"), help: "Not after: ISO 8601 or relative.") var endTime: String?
    @Option(name: .customLong("since"), help: "Same as --start-time.") var since: String?
    @Option(name: .customLong("max-results"), help: "Return at most this many events in total (default: all).") var maxResults: Int?
    @Option(help: "table, json or jsonl.") var output: String = "table"

    func validate() throws {
        guard ["table", "json", "jsonl"].contains(output) else { throw ValidationError("--output must be table, json or jsonl") }
        if let maxResults, maxResults < 1 { throw ValidationError("--max-results must be at least 1") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    func run() throws {
        let now = Date()
        func time(_ text: String?, _ flag: String) throws -> Date? {
            guard let text else { return nil }
            guard let date = TrailTime.parse(text, now: now) else {
                throw ValidationError("\(flag) \"\(text)\" is neither ISO 8601 (2026-11-24T16:30:00Z) nor relative (30m, 1h, 7d)")
            }
            return date
        }
        var attributes: [LookupAttribute] = []
        if let user { attributes.append(.init(key: .username, value: user)) }
        if let eventName { attributes.append(.init(key: .eventName, value: eventName)) }
        if let eventSource { attributes.append(.init(key: .eventSource, value: eventSource)) }
        if let host { attributes.append(.init(key: .host, value: host)) }
        if let eventID { attributes.append(.init(key: .eventId, value: eventID)) }
        let request = LookupEventsRequest(
            lookupAttributes: attributes.isEmpty ? nil : attributes,
            startTime: try time(startTime ?? since, startTime != nil ? "--start-time" : "--since"),
            endTime: try time(endTime, "--end-time"))
        let events: [LookupEvent]
        do {
            let client = try LookupClient(
                collectorURL: collector, tls: HTTPSClient.Configuration(caFile: ca, certificateFile: cert, keyFile: key))
            events = try client.lookup(request, maxResults: maxResults)
        } catch let failure as LookupClient.Failure {
            FileHandle.standardError.write(Data("hosttrail lookup: \(failure)\n".utf8))
            throw ExitCode(1)
        }
        switch output {
        case "json": print(try EventTable.json(events))
        case "jsonl": if !events.isEmpty { print(EventTable.jsonLines(events)) }
        default: print(EventTable.table(events))
        }
    }
}

struct DevCerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-certs",
        abstract: "Write a development CA, a collector certificate (localhost, 127.0.0.1) and host certificates.")

    @Option(help: "Directory for the PEM files; an existing CA in it is reused.") var out: String
    @Option(name: .customLong("host"), help: "A host to make a client certificate for (repeatable).") var hosts: [String] = []

    func validate() throws {
        for host in hosts where !DevCertificateAuthority.isValidHostName(host) {
            throw ValidationError("--host \"\(host)\" is not a usable host name (letters, digits, '-', '.', '_'; not ca or collector)")
        }
    }

    func run() throws {
        let output = try DevCertificateAuthority(directory: out).write(hosts: hosts)
        print(output.reusedCA ? "reused the CA in \(out)" : "created a new CA in \(out)")
        for file in output.files { print("wrote \(file)") }
    }
}
