// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

/// Vectors computed by botocore's `SigV4Auth` (AWS's `get-vanilla` suite case, and a CloudTrail
/// `LookupEvents` call as the AWS CLI makes it).
struct SigV4Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let keys = AccessKeys([AccessKey(id: "AKIDEXAMPLE", secret: secret)])
    static let body = Data(#"{"MaxResults": 5}"#.utf8)
    static let target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
    static let signedAt = TrailTime.parseISO8601("2026-11-25T10:00:00Z")!

    static func lookupHeaders(
        signature: String = "bc1134b69f13cd87bbb09ed66f47fdefb39fc0846bb0d0374159bcaf80c934aa", date: String = "20261125T100000Z",
        scope: String = "20261125/eu-west-1/cloudtrail"
    )
        -> [(name: String, value: String)]
    {
        [
            ("Host", "127.0.0.1:8443"), ("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Date", date),
            ("User-Agent", "aws-cli/1.45.11"), ("Content-Length", "17"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\(scope)/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(signature)"
            ),
        ]
    }

    func verify(_ headers: [(name: String, value: String)], body: Data = SigV4Tests.body, now: Date = SigV4Tests.signedAt) throws(SigV4Failure)
        -> AccessKey
    {
        try SigV4.verify(method: "POST", path: "/", query: "", headers: headers, body: body, keys: Self.keys, service: "cloudtrail", now: now)
    }

    @Test func theGetVanillaVectorSignsAsBotocoreDoes() {
        let canonical = SigV4.canonicalRequest(
            method: "GET", path: "/", query: "", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            signedHeaders: ["host", "x-amz-date"], payloadHash: SigV4.hexSHA256(Data()))
        #expect(
            canonical
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        let signature = SigV4.signature(
            canonicalRequest: canonical, amzDate: "20150830T123600Z", secret: Self.secret, date: "20150830", region: "us-east-1", service: "service")
        #expect(signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func anAWSCLILookupVerifiesAndWhatTheCLISignsVerifies() throws {
        #expect(try verify(Self.lookupHeaders()).id == "AKIDEXAMPLE")
        // Within 15 minutes either way.
        #expect(try verify(Self.lookupHeaders(), now: Self.signedAt.addingTimeInterval(14 * 60)).id == "AKIDEXAMPLE")
        // hosttrail lookup's own signing, verified by the collector's code.
        let headers: [(name: String, value: String)] = [
            ("Host", "collector:8443"), ("X-Amz-Target", Self.target), ("Content-Type", "application/x-amz-json-1.1"),
        ]
        let signing = SigV4.sign(
            method: "POST", path: "/", headers: headers, body: Self.body, accessKeyID: "AKIDEXAMPLE", secret: Self.secret, region: "local",
            service: "cloudtrail", now: Self.signedAt)
        #expect(try verify(headers + signing).id == "AKIDEXAMPLE")
    }

    @Test func everyWayToGetTheSignatureWrongIsRefusedWithCloudTrailsError() {
        let cases: [(String, [(name: String, value: String)], Data, Date, String)] = [
            (
                "no Authorization", Self.lookupHeaders().filter { $0.name != "Authorization" }, Self.body, Self.signedAt,
                "MissingAuthenticationTokenException"
            ),
            ("a changed body", Self.lookupHeaders(), Data(#"{"MaxResults": 6}"#.utf8), Self.signedAt, "InvalidSignatureException"),
            (
                "a changed signature", Self.lookupHeaders(signature: String(repeating: "0", count: 64)), Self.body, Self.signedAt,
                "InvalidSignatureException"
            ),
            ("16 minutes late", Self.lookupHeaders(), Self.body, Self.signedAt.addingTimeInterval(16 * 60), "InvalidSignatureException"),
            ("16 minutes early", Self.lookupHeaders(), Self.body, Self.signedAt.addingTimeInterval(-16 * 60), "InvalidSignatureException"),
            ("another service", Self.lookupHeaders(scope: "20261125/eu-west-1/s3"), Self.body, Self.signedAt, "IncompleteSignatureException"),
            (
                "a scope date not the request's", Self.lookupHeaders(scope: "20261124/eu-west-1/cloudtrail"), Self.body, Self.signedAt,
                "InvalidSignatureException"
            ),
            (
                "an unknown key",
                Self.lookupHeaders().map {
                    $0.name == "Authorization" ? ($0.name, $0.value.replacingOccurrences(of: "AKIDEXAMPLE", with: "AKIDOTHER")) : $0
                }, Self.body, Self.signedAt, "UnrecognizedClientException"
            ),
            (
                "a garbled header", Self.lookupHeaders().map { $0.name == "Authorization" ? ($0.name, "AWS4-HMAC-SHA256 Credential=x") : $0 },
                Self.body, Self.signedAt, "IncompleteSignatureException"
            ),
            (
                "another algorithm", Self.lookupHeaders().map { $0.name == "Authorization" ? ($0.name, "Basic dXNlcjpwYXNz") : $0 }, Self.body,
                Self.signedAt, "IncompleteSignatureException"
            ),
            ("no X-Amz-Date", Self.lookupHeaders().filter { $0.name != "X-Amz-Date" }, Self.body, Self.signedAt, "IncompleteSignatureException"),
            // 16 bytes with T and Z in place but not digits (once a crash: characters, not bytes, were indexed).
            ("a non-ASCII X-Amz-Date", Self.lookupHeaders(date: "2026112\u{20AC}T1000Z"), Self.body, Self.signedAt, "IncompleteSignatureException"),
            ("a garbled X-Amz-Date", Self.lookupHeaders(date: "2026-11-25T10:00"), Self.body, Self.signedAt, "IncompleteSignatureException"),
        ]
        for (description, headers, body, now, type) in cases {
            do {
                _ = try verify(headers, body: body, now: now)
                Issue.record("\(description): accepted")
            } catch {
                #expect(error.type == type, "\(description): \(error)")
                #expect(error.status == (type == "IncompleteSignatureException" ? 400 : 403), "\(description)")
            }
        }
    }

    @Test func theSecondKeyOfAKeyFileVerifiesWithItsRestrictions() throws {
        let keys = try AccessKeys(
            fileText: """
                # id secret restrictions
                AKIDAUDITOR  auditor-secret-0123456789 hosts=web-01,web-02\r
                AKIDEXAMPLE  \(Self.secret)   event-sources=sshd.linux,sudo.linux

                """)
        let key = try SigV4.verify(
            method: "POST", path: "/", query: "", headers: Self.lookupHeaders(), body: Self.body, keys: keys, service: "cloudtrail",
            now: Self.signedAt)
        #expect(key.eventSources == ["sshd.linux", "sudo.linux"] && key.hosts == nil)
        #expect(keys.key(id: "AKIDAUDITOR")?.hosts == ["web-01", "web-02"])
        for (text, reason) in [
            ("AKID", "expected ID SECRET"), ("AKID short", "at least 16"), ("AK-ID long-enough-secret", "letters and digits"),
            ("AKID long-enough-secret color=red", "unknown restriction"), ("AKID long-enough-secret hosts=", "hosts=A,B"),
            ("AKID long-enough-secret\nAKID long-enough-secret", "listed twice"),
        ] {
            #expect(throws: AccessKeys.ParseError.self) { try AccessKeys(fileText: text) }
            do { _ = try AccessKeys(fileText: text) } catch { #expect(error.description.contains(reason), "\(text): \(error)") }
        }
        #expect(try AccessKeys.parseFlag("AKIDTEST:0123456789abcdef").secret == "0123456789abcdef")
        #expect(throws: AccessKeys.ParseError.self) { try AccessKeys.parseFlag("AKIDTEST") }
    }

    @Test func queriesAndPathsAreCanonical() {
        #expect(
            SigV4.canonicalRequest(
                method: "get", path: "/a/./b/../c//d", query: "prefix=a b&marker=x%2Fy&flag", headers: [], signedHeaders: [], payloadHash: "h")
                == "GET\n/a/c/d\nflag=&marker=x%2Fy&prefix=a%20b\n\n\nh")
    }

    /// The query is decoded without Foundation (the agent links FoundationEssentials only); each
    /// value canonicalizes as Foundation's `+` replacement and `removingPercentEncoding` would
    /// have it, malformed escapes and non-UTF-8 bytes (kept as written) included.
    @Test(arguments: ["a+b", "%2B", "x%2Fy", "caf%C3%A9", "%e2%82%ac", "100%", "%4", "%zz", "%FF", "%C3", "plain", "", "a%20b+c", "%%41"])
    func queryValuesDecodeAsFoundationDecodesThem(value: String) {
        let foundation = value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
        let expected =
            "k="
            + foundation.utf8.map { byte -> String in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                    String(UnicodeScalar(byte))
                default:
                    String(format: "%%%02X", byte)
                }
            }.joined()
        #expect(
            SigV4.canonicalRequest(method: "GET", path: "/", query: "k=\(value)", headers: [], signedHeaders: [], payloadHash: "h")
                == "GET\n/\n\(expected)\n\n\nh")
    }
}
