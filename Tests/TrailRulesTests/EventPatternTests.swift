// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import Testing
import TrailCore

@testable import TrailRules

/// EventBridge's pattern operators on tables of events, the documentation's examples among them.
struct EventPatternTests {
    /// The EventBridge envelope of a CloudTrail record, as EventBridge delivers it.
    static let event = try! JSONValue.parse(
        Data(
            #"""
            {"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"AWS API Call via CloudTrail",
             "source":"aws.sshd","account":"111122223333","time":"2026-12-05T10:00:00Z","region":"us-west-1",
             "resources":["arn:hosttrail:host:::host/web-01"],
             "detail":{"eventSource":"sshd.linux","eventName":"Login","errorCode":"AuthFailure","sourceIPAddress":"203.0.113.9",
                       "userIdentity":{"type":"LinuxUser","userName":"Alice"},"requestParameters":{"port":22,"ratio":0.5},
                       "responseElements":null,"readOnly":false,
                       "tags":["prod","eu"],"c-count":5,"d-count":null,"x-limit":3018.56,
                       "addresses":["10.0.0.1","2001:db8::7"]}}
            """#.utf8))

    static func matches(_ pattern: String) throws -> Bool {
        try EventPattern(JSONValue.parse(Data(pattern.utf8))).matches(event)
    }

    @Test(arguments: [
        // Exact values, AND across fields, OR within a list; nested objects.
        (#"{"source":["aws.sshd"],"detail":{"eventName":["Login","Logout"]}}"#, true),
        (#"{"source":["aws.sshd"],"detail":{"eventName":["Logout"]}}"#, false),
        (#"{"detail-type":["AWS API Call via CloudTrail"]}"#, true),
        (#"{"detail":{"requestParameters":{"port":[22]}}}"#, true),
        (#"{"detail":{"requestParameters":{"port":["22"]}}}"#, false),
        (#"{"detail":{"responseElements":[null]}}"#, true),
        (#"{"detail":{"d-count":[null]}}"#, true),
        (#"{"detail":{"missing":[null]}}"#, false),
        // Arrays in events: any element.
        (#"{"detail":{"tags":["eu"]}}"#, true),
        (#"{"resources":[{"prefix":"arn:hosttrail:host"}]}"#, true),
        // Prefix, suffix, equals-ignore-case and their combinations.
        (#"{"region":[{"prefix":"us-"}]}"#, true),
        (#"{"region":[{"prefix":"eu-"}]}"#, false),
        (#"{"detail":{"eventSource":[{"suffix":".linux"}]}}"#, true),
        (#"{"detail":{"userIdentity":{"userName":[{"equals-ignore-case":"alice"}]}}}"#, true),
        (#"{"detail":{"userIdentity":{"userName":["alice"]}}}"#, false),
        (#"{"detail":{"eventSource":[{"prefix":{"equals-ignore-case":"SSHD."}}]}}"#, true),
        (#"{"detail":{"eventSource":[{"suffix":{"equals-ignore-case":".LINUX"}}]}}"#, true),
        // Wildcards: * for any run, \* for a star.
        (#"{"detail":{"eventSource":[{"wildcard":"ss*.li*x"}]}}"#, true),
        (#"{"detail":{"eventSource":[{"wildcard":"*.windows"}]}}"#, false),
        (#"{"detail":{"eventName":[{"wildcard":"Log\\*"}]}}"#, false),
        // anything-but: a value, a list, numbers, and with a matcher; never an absent field.
        (#"{"detail":{"eventName":[{"anything-but":"Logout"}]}}"#, true),
        (#"{"detail":{"eventName":[{"anything-but":["Login","Logout"]}]}}"#, false),
        (#"{"detail":{"c-count":[{"anything-but":[5,6]}]}}"#, false),
        (#"{"detail":{"eventSource":[{"anything-but":{"prefix":"sshd"}}]}}"#, false),
        (#"{"detail":{"eventSource":[{"anything-but":{"suffix":".windows"}}]}}"#, true),
        (#"{"detail":{"userIdentity":{"userName":[{"anything-but":{"equals-ignore-case":["ALICE","bob"]}}]}}}"#, false),
        (#"{"detail":{"eventName":[{"anything-but":{"wildcard":"Log*"}}]}}"#, false),
        (#"{"detail":{"missing":[{"anything-but":"x"}]}}"#, false),
        // numeric, the documentation's example: 0 < c-count <= 5, d-count null, x-limit in (0, 3018.5].
        (#"{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"x-limit":[{"numeric":["<",3019]}]}}"#, true),
        (#"{"detail":{"x-limit":[{"numeric":[">",0,"<=",3018.5]}]}}"#, false),
        (#"{"detail":{"requestParameters":{"ratio":[{"numeric":["=",0.5]}]}}}"#, true),
        (#"{"detail":{"eventName":[{"numeric":[">",0]}]}}"#, false),
        // exists.
        (#"{"detail":{"errorCode":[{"exists":true}]}}"#, true),
        (#"{"detail":{"errorMessage":[{"exists":false}]}}"#, true),
        (#"{"detail":{"errorCode":[{"exists":false}]}}"#, false),
        (#"{"detail":{"additionalEventData":{"host":[{"exists":false}]}}}"#, true),
        // cidr, IPv4 and IPv6, an array of addresses.
        (#"{"detail":{"sourceIPAddress":[{"cidr":"203.0.113.0/24"}]}}"#, true),
        (#"{"detail":{"sourceIPAddress":[{"cidr":"198.51.100.0/24"}]}}"#, false),
        (#"{"detail":{"addresses":[{"cidr":"2001:db8::/32"}]}}"#, true),
        (#"{"detail":{"addresses":[{"cidr":"10.0.0.0/31"}]}}"#, true),
        // $or.
        (#"{"detail":{"$or":[{"eventName":["Logout"]},{"errorCode":["AuthFailure"]}]}}"#, true),
        (#"{"$or":[{"source":["aws.ec2"]},{"region":["eu-west-1"]}]}"#, false),
    ])
    func operators(pattern: String, expected: Bool) throws {
        #expect(try Self.matches(pattern) == expected, "\(pattern)")
    }

    @Test(arguments: [
        (#"[]"#, "pattern: must be an object"),
        (#"{"source":"aws.sshd"}"#, "source: must be a list of values or matchers, or a nested pattern"),
        (#"{"source":[]}"#, "source: must list at least one value"),
        (#"{"source":[{"prefix":1}]}"#, "source[0]: prefix takes a string"),
        (#"{"source":[{"wildcard":"a**b"}]}"#, "source[0]: wildcard may not have consecutive *"),
        (#"{"source":[{"numeric":[">",1,">",2]}]}"#, "source[0]: numeric has two lower bounds"),
        (#"{"source":[{"cidr":"10.0.0.0/33"}]}"#, "source[0]: \"10.0.0.0/33\" is not a CIDR block"),
        (#"{"source":[{"colour":"red"}]}"#, "source[0]: unknown operator colour"),
        (#"{"$or":[{"source":["a"]}]}"#, "$or: must be a list of at least two patterns"),
        (#"{"source":[true]}"#, "source[0]: true and false are not values EventBridge matches; use \"true\" or {\"exists\": …}"),
    ])
    func malformedPatternsAreNamed(pattern: String, message: String) throws {
        let error = #expect(throws: EventPatternError.self) { try EventPattern(JSONValue.parse(Data(pattern.utf8))) }
        #expect(error?.description == message)
    }

    /// A HostTrail record in its EventBridge envelope matches a pattern written for EventBridge.
    @Test func recordsMatchInTheirEnvelope() throws {
        var record = CloudTrailRecord(
            userIdentity: UserIdentity(type: UserIdentity.linuxUser, userName: "root"), eventTime: "2026-12-05T10:00:00Z",
            eventSource: "sshd.linux", eventName: "Login", eventID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", eventType: "AwsConsoleSignIn")
        record.errorCode = "AuthFailure"
        record.recipientAccountId = "111122223333"
        let envelope = EventBridgeEnvelope.envelope(of: record, json: record.jsonValue)
        let pattern = try EventPattern(
            JSONValue.parse(
                Data(
                    #"{"source":["aws.sshd"],"detail-type":["AWS Console Sign In via CloudTrail"],"account":["111122223333"],"detail":{"errorCode":[{"exists":true}]}}"#
                        .utf8)))
        #expect(pattern.matches(envelope))
        #expect(EventBridgeEnvelope.detailType(eventType: "AwsCloudTrailInsight") == "AWS Insight via CloudTrail")
    }

    @Test func wildcardsBacktrack() {
        #expect(Wildcard.matches("*a*b", "xxaxxab") && Wildcard.matches("a*", "a") && !Wildcard.matches("a*c", "abcb"))
        #expect(Wildcard.matches("\\*x", "*x") && !Wildcard.matches("\\*x", "ax"))
    }
}
