// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The stock AWS CLI (awscli from pip, run as `python3 -m awscli`) and botocore's own signer
/// against a collector holding events a real agent shipped: SigV4 with the collector's access
/// keys, paging, restrictions and the authentication errors.
@Suite(.serialized, .endToEnd)
struct CloudTrailAPITests {
    static let keyID = "AKIDHOSTTRAILTEST"
    static let secret = "hosttrail-test-secret-0123456789"

    /// `aws cloudtrail ARGUMENTS` against the fleet's collector with the given credentials.
    static func aws(_ fleet: Fleet, _ arguments: [String], keyID: String? = Self.keyID, secret: String = Self.secret) throws -> Command.Result {
        var environment = [
            "AWS_CA_BUNDLE": fleet.certificates + "/ca.pem", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": keyID ?? "", "AWS_SECRET_ACCESS_KEY": secret, "AWS_EC2_METADATA_DISABLED": "true",
        ]
        if keyID == nil { environment["AWS_ACCESS_KEY_ID"] = nil }
        return try Command.run(
            "python3",
            ["-m", "awscli", "cloudtrail"] + arguments + ["--endpoint-url", fleet.collectorURL, "--output", "json"]
                + (keyID == nil ? ["--no-sign-request"] : []),
            environment: environment, timeout: 120)
    }

    static func events(_ result: Command.Result) throws -> [JSONValue] {
        guard result.status == 0 else { throw TestProcess.Failure(description: "aws failed: \(result)") }
        return try #require(try JSONValue.parse(Array(result.stdout.utf8))["Events"]?.arrayValue)
    }

    @Test func theStockAWSCLILooksUpSignedAndIsRefusedUnsigned() throws {
        let fleet = try Fleet()
        let keyFile = fleet.directory.file("access-keys")
        try Data("# auditors see web-02 only\nAKIDWEB02ONLY web02-only-secret-0123456789 hosts=web-02\n".utf8).write(
            to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o600)
        try fleet.startCollector(extra: ["--access-key", "\(Self.keyID):\(Self.secret)", "--access-key-file", keyFile])
        try fleet.startAgent()
        // Every tenth event read-only, from 203.0.113.<n % 10>, about invoice n % 7.
        let batch =
            "{\"events\":["
            + (0..<230).map {
                #"{"eventSource":"shop.example.com","eventName":"Paged","readOnly":\#($0 % 10 == 0),"sourceIPAddress":"203.0.113.\#($0 % 10)","resources":[{"ARN":"arn:shop:invoice/\#($0 % 7)","type":"Invoice"}],"requestParameters":{"n":\#($0)}}"#
            }.joined(separator: ",") + "]}"
        #expect(try fleet.post(batch).status == 202)
        _ = try fleet.records(["--event-name", "Paged"], atLeast: 230)

        // Every page, 50 at a time, followed by the CLI itself.
        let all = try Self.events(Self.aws(fleet, ["lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=Paged"]))
        #expect(all.count == 230)
        #expect(Set(all.compactMap { $0["EventId"]?.stringValue }).count == 230)
        let record = try CloudTrailRecord.decode(from: Data(try #require(all.first?["CloudTrailEvent"]?.stringValue).utf8))
        #expect(record.eventName == "Paged" && record.claimedHostName == "web-01")
        // --max-results stops the CLI's paging and hands back the token.
        let page = try Self.aws(
            fleet, ["lookup-events", "--max-results", "7", "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=shop.example.com"])
        #expect(try Self.events(page).count == 7)
        #expect(try JSONValue.parse(Array(page.stdout.utf8))["NextToken"]?.stringValue != nil)
        // The server validates what the CLI does not.
        // Each attribute key through the CLI (Host and SourceIPAddress are HostTrail's own; botocore
        // does not check the key against its list), and a time range.
        let someID = try #require(all[17]["EventId"]?.stringValue)
        // Username root and Host web-01 also find the agent's own AgentStarted record.
        let attributeCounts: [(String, String, Int)] = [
            ("EventId", someID, 1), ("EventName", "Paged", 230), ("EventSource", "shop.example.com", 230), ("Username", "root", 231),
            ("ReadOnly", "true", 23), ("ResourceType", "Invoice", 230), ("ResourceName", "arn:shop:invoice/3", 33), ("Host", "web-01", 231),
            ("SourceIPAddress", "203.0.113.4", 23), ("AccessKeyId", "AKIDNOTUSED", 0),
        ]
        for (key, value, expected) in attributeCounts {
            let found = try Self.events(Self.aws(fleet, ["lookup-events", "--lookup-attributes", "AttributeKey=\(key),AttributeValue=\(value)"]))
            #expect(found.count == expected, "\(key)=\(value)")
        }
        let now = Date()
        let inRange = try Self.events(
            Self.aws(
                fleet,
                [
                    "lookup-events", "--start-time", TrailTime.format(now.addingTimeInterval(-600)), "--end-time",
                    TrailTime.format(now.addingTimeInterval(60)),
                    "--lookup-attributes", "AttributeKey=EventName,AttributeValue=Paged",
                ]))
        #expect(inRange.count == 230)
        let before = try Self.events(
            Self.aws(
                fleet,
                [
                    "lookup-events", "--end-time", TrailTime.format(now.addingTimeInterval(-600)), "--lookup-attributes",
                    "AttributeKey=EventName,AttributeValue=Paged",
                ]))
        #expect(before.isEmpty)
        let backwards = try Self.aws(
            fleet, ["lookup-events", "--start-time", TrailTime.format(now), "--end-time", TrailTime.format(now.addingTimeInterval(-60))])
        #expect(backwards.status != 0 && backwards.stderr.contains("InvalidTimeRangeException"), "\(backwards)")
        let badKey = try Self.aws(fleet, ["lookup-events", "--lookup-attributes", "AttributeKey=Colour,AttributeValue=red"])
        #expect(badKey.status != 0 && badKey.stderr.contains("InvalidLookupAttributesException"), "\(badKey)")

        // A body over the API's 1 MiB: a clear error, not an internal failure.
        let huge = try Command.run(
            "curl",
            [
                "-sS", "--cacert", fleet.certificates + "/ca.pem", "--cert", fleet.certificates + "/web-01.pem", "--key",
                fleet.certificates + "/web-01-key.pem",
                "-w", "\n%{http_code}", "-H", "X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                "--data-binary", "@-", fleet.collectorURL + "/",
            ], stdin: Data(String(repeating: " ", count: 2 << 20).utf8))
        #expect(huge.stdout.hasSuffix("\n400") && huge.stdout.contains("SerializationException"), "\(huge)")

        let tooMany = try Self.aws(fleet, ["lookup-events", "--max-results", "51"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("InvalidMaxResultsException"), "\(tooMany)")
        #expect(try Self.aws(fleet, ["describe-trails"]).stdout.contains("e2e-trail"))

        // boto3's paginator over the same events, several attributes at once (beyond CloudTrail).
        let boto = """
            import boto3, sys
            client = boto3.client("cloudtrail", endpoint_url=sys.argv[1], region_name="ap-south-1", verify=sys.argv[2],
                                  aws_access_key_id="\(Self.keyID)", aws_secret_access_key="\(Self.secret)")
            pages = client.get_paginator("lookup_events").paginate(LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "Paged"}, {"AttributeKey": "EventSource", "AttributeValue": "shop.example.com"}],
                PaginationConfig={"PageSize": 40})
            counts = [len(page["Events"]) for page in pages]
            print(sum(counts), len(counts))
            """
        let paged = try Command.run(
            "python3", ["-c", boto, fleet.collectorURL, fleet.certificates + "/ca.pem"], environment: ["AWS_CONFIG_FILE": "/nonexistent"])
        #expect(paged.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "230 6", "\(paged)")

        // A key restricted to web-02 sees none of web-01's events.
        let restricted = try Self.events(
            Self.aws(
                fleet, ["lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=Paged"], keyID: "AKIDWEB02ONLY",
                secret: "web02-only-secret-0123456789"))
        #expect(restricted.isEmpty)

        // hosttrail lookup signs like any SDK, from the standard environment variables, without a certificate.
        func lookup(secret: String) throws -> Command.Result {
            try Command.run(
                TestBinaries.cli,
                ["lookup", "--collector", fleet.collectorURL, "--ca", fleet.certificates + "/ca.pem", "--event-name", "Paged", "--output", "jsonl"],
                environment: ["AWS_ACCESS_KEY_ID": Self.keyID, "AWS_SECRET_ACCESS_KEY": secret])
        }
        let signedByTheCLI = try lookup(secret: Self.secret)
        #expect(signedByTheCLI.status == 0 && signedByTheCLI.stdout.split(separator: "\n").count == 230, "\(signedByTheCLI.stderr)")
        let badSecret = try lookup(secret: "not-the-secret-0123456789")
        #expect(badSecret.status != 0 && badSecret.stderr.contains("InvalidSignatureException"), "\(badSecret)")

        let wrongSecret = try Self.aws(fleet, ["lookup-events", "--max-results", "1"], secret: "not-the-secret-0123456789")
        #expect(wrongSecret.status != 0 && wrongSecret.stderr.contains("InvalidSignatureException"), "\(wrongSecret)")
        let unknownKey = try Self.aws(fleet, ["lookup-events", "--max-results", "1"], keyID: "AKIDNOBODY")
        #expect(unknownKey.status != 0 && unknownKey.stderr.contains("UnrecognizedClientException"), "\(unknownKey)")
        let unsigned = try Self.aws(fleet, ["lookup-events", "--max-results", "1"], keyID: nil)
        #expect(unsigned.status != 0 && unsigned.stderr.contains("MissingAuthenticationTokenException"), "\(unsigned)")
    }

    /// botocore's signer with its clock 20 minutes behind: the collector says the signature expired;
    /// the same request signed now passes.
    @Test func aSignatureFromTwentyMinutesAgoHasExpired() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--access-key", "\(Self.keyID):\(Self.secret)"])
        let script = """
            import datetime, json, ssl, sys, urllib.request, urllib.error
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            url, ca, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
            request = AWSRequest(method="POST", url=url + "/", data=b"{}", headers={
                "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                "Content-Type": "application/x-amz-json-1.1"})
            stamp = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=offset)).strftime("%Y%m%dT%H%M%SZ")
            auth = SigV4Auth(Credentials("\(Self.keyID)", "\(Self.secret)"), "cloudtrail", "us-east-1")
            request.context["timestamp"] = stamp
            request.headers["X-Amz-Date"] = stamp
            signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
            request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, "
                f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, Signature={signature}")
            prepared = request.prepare()
            context = ssl.create_default_context(cafile=ca)
            try:
                response = urllib.request.urlopen(urllib.request.Request(url + "/", data=prepared.body, headers=dict(prepared.headers), method="POST"), context=context)
                print(response.status, response.read().decode())
            except urllib.error.HTTPError as error:
                print(error.code, error.read().decode())
            """
        func call(minutesAgo: Int) throws -> String {
            let result = try Command.run("python3", ["-c", script, fleet.collectorURL, fleet.certificates + "/ca.pem", String(minutesAgo)])
            #expect(result.status == 0, "\(result)")
            return result.stdout + result.stderr
        }
        let expired = try call(minutesAgo: 20)
        #expect(expired.hasPrefix("403 ") && expired.contains("InvalidSignatureException") && expired.contains("Signature expired"), "\(expired)")
        let fresh = try call(minutesAgo: 0)
        #expect(fresh.hasPrefix("200 ") && fresh.contains("\"Events\""), "\(fresh)")
    }

    /// `hosttrail tail` prints events as they are stored, oldest first, once each, with its filters.
    @Test func tailFollowsNewEventsLiveOnceEach() throws {
        let fleet = try Fleet()
        try fleet.startCollector(extra: ["--access-key", "\(Self.keyID):\(Self.secret)"])
        try fleet.startAgent()
        #expect(try fleet.post(#"{"eventSource":"shop.example.com","eventName":"BeforeTheTail"}"#).status == 202)
        _ = try fleet.records(["--event-name", "BeforeTheTail"], atLeast: 1)
        let tail = try TestProcess(
            TestBinaries.cli,
            [
                "tail", "--collector", fleet.collectorURL, "--ca", fleet.certificates + "/ca.pem", "--event-source", "shop.example.com",
                "--interval-ms", "200",
            ],
            logPath: fleet.directory.file("tail.log"), environment: ["AWS_ACCESS_KEY_ID": Self.keyID, "AWS_SECRET_ACCESS_KEY": Self.secret],
            unblockingSignals: true)
        defer { tail.stop() }
        try tail.waitForLog("hosttrail tail: following")
        for round in 0..<3 {
            let events = (0..<2).map {
                #"{"eventSource":"shop.example.com","eventName":"Live\#(round)\#($0)","eventTime":"\#(TrailTime.format(Date().addingTimeInterval(Double($0))))"}"#
            }
            #expect(try fleet.post("{\"events\":[\(events.joined(separator: ","))]}").status == 202)
            #expect(try fleet.post(#"{"eventSource":"other.example.com","eventName":"Filtered"}"#).status == 202)
            Thread.sleep(forTimeInterval: 0.7)
        }
        _ = try tail.waitForLog("Live21", timeout: 10)
        // A last event, printed: the polls after the others have all been answered since.
        let last = #"{"eventSource":"shop.example.com","eventName":"Last","eventTime":"\#(TrailTime.format(Date().addingTimeInterval(2)))"}"#
        #expect(try fleet.post(last).status == 202)
        let names = ["Live00", "Live01", "Live10", "Live11", "Live20", "Live21", "Last"]
        _ = try tail.waitForLog("Last", timeout: 10)
        let printed = tail.log.split(separator: "\n").filter { !$0.hasPrefix("hosttrail tail:") }
            .compactMap { line in line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.map(String.init) }
        #expect(printed == names, "\(tail.log)")
        #expect(!tail.log.contains("BeforeTheTail") && !tail.log.contains("Filtered"))
    }
}
