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
        abstract: "HostTrail's command line: look up events, send application events, make development certificates.",
        version: HostTrailVersion.current,
        subcommands: [
            Lookup.self, Tail.self, Insights.self, Status.self, Rules.self, Actions.self, Responses.self, Send.self, Validate.self, DevCerts.self,
        ]
    )
}

/// Where the collector is and how to authenticate: a client certificate, or SigV4 credentials.
struct CollectorConnection: ParsableArguments {
    @Option(help: "Collector URL, e.g. https://127.0.0.1:8443.") var collector: String
    @Option(help: "CA certificate of the collector (PEM).") var ca: String?
    @Option(help: "Client certificate (PEM).") var cert: String?
    @Option(help: "Client key (PEM).") var key: String?
    @Option(name: .customLong("access-key-id"), help: "SigV4 access key id (default: $AWS_ACCESS_KEY_ID).") var accessKeyID: String?
    @Option(name: .customLong("secret-access-key"), help: "SigV4 secret (default: $AWS_SECRET_ACCESS_KEY).") var secretAccessKey: String?

    func validate() throws {
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    /// SigV4 credentials from the flags, else the standard environment variables; none without
    /// a key id (a client certificate then authorises the lookup).
    func credentials() throws -> LookupClient.Credentials? {
        do {
            return try LookupClient.Credentials.resolve(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func client() throws -> LookupClient {
        try LookupClient(
            collectorURL: collector, tls: HTTPSClient.Configuration(caFile: ca, certificateFile: cert, keyFile: key), credentials: try credentials())
    }
}

/// The lookup attributes, ANDed.
struct EventFilters: ParsableArguments {
    @Option(help: "Events by this user (for sudo and su, also the invoking user).") var user: String?
    @Option(name: .customLong("event-name"), help: "Events with this name.") var eventName: String?
    @Option(name: .customLong("event-source"), help: "Events from this source, e.g. sshd.linux.") var eventSource: String?
    @Option(help: "Events from this host.") var host: String?
    @Option(name: .customLong("event-id"), help: "The event with this ID.") var eventID: String?

    var attributes: [LookupAttribute]? {
        var attributes: [LookupAttribute] = []
        if let user { attributes.append(.init(key: .username, value: user)) }
        if let eventName { attributes.append(.init(key: .eventName, value: eventName)) }
        if let eventSource { attributes.append(.init(key: .eventSource, value: eventSource)) }
        if let host { attributes.append(.init(key: .host, value: host)) }
        if let eventID { attributes.append(.init(key: .eventId, value: eventID)) }
        return attributes.isEmpty ? nil : attributes
    }
}

func parseTime(_ text: String?, _ flag: String, now: Date) throws -> Date? {
    guard let text else { return nil }
    guard let date = TrailTime.parse(text, now: now) else {
        throw ValidationError("\(flag) \"\(text)\" is neither ISO 8601 (2026-11-24T16:30:00Z) nor relative (30m, 1h, 7d)")
    }
    return date
}

struct Lookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look up events in a collector, newest first (filters are ANDed).")

    @OptionGroup var connection: CollectorConnection
    @OptionGroup var filters: EventFilters
    @Option(name: .customLong("start-time"), help: "Not before: ISO 8601 or relative (30m, 1h, 7d).") var startTime: String?
    @Option(name: .customLong("end-time"), help: "Not after: ISO 8601 or relative.") var endTime: String?
    @Option(name: .customLong("since"), help: "Same as --start-time.") var since: String?
    @Option(name: .customLong("max-results"), help: "Return at most this many events in total (default: all).") var maxResults: Int?
    @Option(help: "table, json or jsonl.") var output: String = "table"

    func validate() throws {
        guard ["table", "json", "jsonl"].contains(output) else { throw ValidationError("--output must be table, json or jsonl") }
        if let maxResults, maxResults < 1 { throw ValidationError("--max-results must be at least 1") }
    }

    func run() throws {
        let now = Date()
        let request = LookupEventsRequest(
            lookupAttributes: filters.attributes,
            startTime: try parseTime(startTime ?? since, startTime != nil ? "--start-time" : "--since", now: now),
            endTime: try parseTime(endTime, "--end-time", now: now))
        let events: [LookupEvent]
        do {
            events = try connection.client().lookup(request, maxResults: maxResults)
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

struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow new events as they are stored, oldest first (filters are ANDed); Ctrl-C stops.")

    @OptionGroup var connection: CollectorConnection
    @OptionGroup var filters: EventFilters
    @Option(name: .customLong("since"), help: "Also show events since then: ISO 8601 or relative (default: only new ones).") var since: String?
    @Option(name: .customLong("interval-ms"), help: "How often the collector is asked, in milliseconds.") var intervalMs = 1000
    @Option(name: .customLong("window"), help: "How late an event may be stored and still be shown (a duration like 5m).") var window = "5m"
    @Option(help: "line or jsonl.") var output: String = "line"

    func validate() throws {
        guard ["line", "jsonl"].contains(output) else { throw ValidationError("--output must be line or jsonl") }
        guard (100...60_000).contains(intervalMs) else { throw ValidationError("--interval-ms must be 100 to 60000") }
    }

    func run() throws {
        let now = Date()
        guard let windowStart = TrailTime.parse(window, now: now), windowStart < now else {
            throw ValidationError("--window \"\(window)\" is not a relative duration like 5m")
        }
        // Without --since: what is stored now is skipped, and everything stored after is shown,
        // even with an event time up to the window back (a host catching up).
        let from = try parseTime(since, "--since", now: now) ?? windowStart
        var follower = LookupFollower(
            client: try connection.client(), attributes: filters.attributes,
            since: Date(timeIntervalSince1970: from.timeIntervalSince1970.rounded(.down)),
            window: now.timeIntervalSince(windowStart))
        if since == nil {
            do {
                try follower.skipWhatIsStored(now: now)
            } catch let failure as LookupClient.Failure {
                FileHandle.standardError.write(Data("hosttrail tail: \(failure)\n".utf8))
                throw ExitCode(1)
            }
        }
        FileHandle.standardError.write(
            Data("hosttrail tail: following \(connection.collector)\(since == nil ? "" : " from \(TrailTime.format(from))")\n".utf8))
        let jsonLines = output == "jsonl"
        follower.follow(
            every: .milliseconds(intervalMs),
            // Unbuffered: a tail piped into grep shows each event as it comes.
            write: { FileHandle.standardOutput.write(Data(((jsonLines ? $0.cloudTrailEvent : EventTable.line($0)) + "\n").utf8)) },
            report: { FileHandle.standardError.write(Data("hosttrail tail: \($0) (retrying)\n".utf8)) })
    }
}

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an application event to the local agent and print its event ID.",
        discussion: """
            With --event-name, the event is built from the flags; without it, a JSON event (or \
            {"events": [...]}) is read from standard input. Identity comes from this process's \
            uid, as the kernel reports it to the agent.
            """)

    @Option(help: "The agent's application socket.") var socket = "/run/hosttrail/api.sock"
    @Option(name: .customLong("event-source"), help: "e.g. billing.example.com (default: the executable's name under .local).")
    var eventSource: String?
    @Option(name: .customLong("event-name"), help: "e.g. DeleteInvoice.") var eventName: String?
    @Option(name: .customLong("param"), help: "KEY=VALUE (a string) or KEY:=JSON into requestParameters (repeatable).") var parameters: [String] = []
    @Option(name: .customLong("request-id"), help: "A retry with the same ID is stored once.") var requestID: String?
    @Option(name: .customLong("user"), help: "The end user the event is about (userIdentity.sessionContext.sourceIdentity).") var user: String?
    @Flag(name: .customLong("read-only"), help: "The event only read something.") var readOnly = false

    func validate() throws {
        if eventName == nil && (eventSource != nil || !parameters.isEmpty || requestID != nil || user != nil || readOnly) {
            throw ValidationError(
                "--event-source, --param, --request-id, --user and --read-only need --event-name (or give the whole event on stdin)")
        }
    }

    func run() throws {
        do {
            let body: Data
            if let eventName {
                let event = try EventSender.event(
                    eventSource: eventSource, eventName: eventName, parameters: parameters, requestID: requestID, endUser: user,
                    readOnly: readOnly ? true : nil)
                body = Data(event.serialized())
            } else {
                body = FileHandle.standardInput.readDataToEndOfFile()
            }
            for eventID in try EventSender(socketPath: socket).send(body) { print(eventID) }
        } catch let failure as EventSender.Failure {
            FileHandle.standardError.write(Data("hosttrail send: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct DevCerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-certs",
        abstract: "Write a development CA, a collector certificate (localhost, 127.0.0.1) and host certificates.")

    @Option(help: "Directory for the PEM files; an existing CA in it is reused.") var out: String
    @Option(name: .customLong("host"), help: "A host to make a client certificate for (repeatable).") var hosts: [String] = []
    @Option(name: .customLong("collector-name"), help: "Another name or address of the collector, for its certificate (repeatable).")
    var collectorNames: [String] = []

    func validate() throws {
        for name in collectorNames where IPAddressBytes.parse(name) == nil && !DevCertificateAuthority.isValidHostName(name) {
            throw ValidationError("--collector-name \"\(name)\" is neither an IP address nor a host name")
        }
        for host in hosts where !DevCertificateAuthority.isValidHostName(host) {
            throw ValidationError("--host \"\(host)\" is not a usable host name (letters, digits, '-', '.', '_'; not ca or collector)")
        }
    }

    func run() throws {
        let output = try DevCertificateAuthority(directory: out).write(hosts: hosts, collectorNames: collectorNames)
        print(output.reusedCA ? "reused the CA in \(out)" : "created a new CA in \(out)")
        for file in output.files { print("wrote \(file)") }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an archive directory: digest signatures and chain, log file hashes, files no digest lists.",
        discussion: """
            Trusted keys come from --public-key files (the collector writes them to <data-dir>/keys/*.pub.pem) or from the \
            collector's ListPublicKeys (--collector with a client certificate or SigV4 credentials), never from the archive. \
            Exits 1 when anything is wrong, naming each problem.
            """)
    @Option(help: "The archive directory; it holds AWSLogs/.") var dir: String?
    @Option(name: .customLong("s3-endpoint"), help: "Check the copy in this S3-compatible endpoint's bucket instead of a directory.")
    var s3Endpoint: String?
    @Option(name: .customLong("s3-bucket"), help: "The bucket (with --s3-endpoint).") var s3Bucket: String?
    @Option(name: .customLong("s3-prefix"), help: "Key prefix in the bucket (default none).") var s3Prefix = ""
    @Option(name: .customLong("s3-region"), help: "Region S3 requests are signed for (default $AWS_REGION or us-east-1).") var s3Region: String?
    @Option(
        name: .customLong("s3-credentials-file"), help: "'ACCESS_KEY_ID SECRET' for the bucket (default $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY).")
    var s3CredentialsFile: String?
    @Option(name: .customLong("s3-ca"), help: "CA bundle for an https S3 endpoint.") var s3CA: String?
    @Option(name: .customLong("s3-cache"), help: "Where the bucket's objects are copied to be checked (default ~/.cache/hosttrail/s3/BUCKET).")
    var s3Cache: String?
    @Option(name: .customLong("public-key"), help: "A trusted digest public key, PEM (repeatable).") var publicKeys: [String] = []
    @Option(help: "Collector URL whose ListPublicKeys supplies trusted keys.") var collector: String?
    @Option(help: "CA certificate of the collector (PEM).") var ca: String?
    @Option(help: "Client certificate (PEM).") var cert: String?
    @Option(help: "Client key (PEM).") var key: String?
    @Option(name: .customLong("start-time"), help: "Check digests from this time: ISO 8601 or relative (7d). Default: all.") var startTime: String?
    @Option(name: .customLong("end-time"), help: "Check digests up to this time. Default: now.") var endTime: String?
    @Option(name: .customLong("state-file"), help: "Where --quick remembers the hashes it read (default ~/.cache/hosttrail/validate-state.json).")
    var stateFile: String?
    @Flag(
        help: """
            Trust a log file checked before whose path, inode, size and modification time are unchanged, without reading it (an edit that keeps all four is not seen). By default every log file is read.
            """)
    var quick = false

    func validate() throws {
        if (dir == nil) == (s3Endpoint == nil) { throw ValidationError("give either --dir DIR or --s3-endpoint URL --s3-bucket NAME") }
        if s3Endpoint != nil && s3Bucket == nil { throw ValidationError("--s3-endpoint needs --s3-bucket") }
    }

    func run() throws {
        let check = ArchiveCheck(
            directory: dir,
            bucket: s3Endpoint.map { endpoint in
                ArchiveCheck.Bucket(
                    endpoint: endpoint, name: s3Bucket ?? "", prefix: s3Prefix, region: s3Region, credentialsFile: s3CredentialsFile, caFile: s3CA,
                    cache: s3Cache)
            },
            publicKeyFiles: publicKeys,
            collector: collector.map {
                ArchiveCheck.Collector(url: $0, tls: HTTPSClient.Configuration(caFile: ca, certificateFile: cert, keyFile: key))
            },
            startTime: startTime, endTime: endTime, stateFile: stateFile, quick: quick)
        let outcome: ArchiveCheck.Outcome
        do {
            outcome = try check.run(
                now: Date(), environment: ProcessInfo.processInfo.environment, output: { print($0) },
                errors: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        if outcome != .valid { throw ExitCode(outcome.rawValue) }
    }
}
