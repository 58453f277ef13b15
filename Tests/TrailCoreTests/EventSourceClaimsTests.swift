// SPDX-License-Identifier: Apache-2.0

import Testing
import TrailCore

struct EventSourceClaimsTests {
    static let users: [String: UInt32] = ["billing": 1001, "payments": 1002]
    static let groups: [String: UInt32] = ["billing-admins": 2001]

    func claims(_ strings: [String]) throws -> EventSourceClaims {
        try EventSourceClaims(parsing: strings, userID: { Self.users[$0] }, groupID: { Self.groups[$0] })
    }

    func peer(uid: UInt32, gid: UInt32 = 100, groups: [UInt32] = [], unit: String? = nil) -> PeerCredentials {
        let cgroup = unit.flatMap { ControlGroup(procText: "0::/system.slice/\($0)\n") }
        return PeerCredentials(pid: 1, uid: uid, gid: gid, controlGroup: cgroup, supplementaryGroups: groups)
    }

    @Test func aClaimedSourceIsWrittenOnlyByItsPrincipals() throws {
        let claims = try claims([
            "billing.example.com=unit:billing.service, group:billing-admins",
            "*.payments.example.com=user:payments",
            "Ledger.Example.com=uid:0,gid:3000",
        ])
        let cases: [(source: String, peer: PeerCredentials, allowed: Bool)] = [
            ("billing.example.com", peer(uid: 5, unit: "billing.service"), true),
            ("BILLING.example.com", peer(uid: 5, groups: [7, 2001]), true),  // a supplementary group; names without case
            ("billing.example.com", peer(uid: 5, gid: 2001), true),  // the primary group
            ("billing.example.com", peer(uid: 1001, unit: "other.service"), false),  // the user named like the source is no principal
            ("eu.payments.example.com", peer(uid: 1002), true),
            ("eu.payments.example.com", peer(uid: 1001), false),
            ("payments.example.com", peer(uid: 1001), true),  // "*." covers names below the domain, not the domain
            ("ledger.example.com", peer(uid: 0), true),
            ("ledger.example.com", peer(uid: 9, gid: 3000), true),
            ("ledger.example.com", peer(uid: 9), false),
            ("shop.example.com", peer(uid: 9), true),  // unclaimed: open
        ]
        for (source, peer, allowed) in cases {
            let refusal = claims.refusal(eventSource: source, peer: peer, index: 3)
            #expect((refusal == nil) == allowed, "\(source) by uid \(peer.uid)")
            if let refusal {
                #expect(refusal.code == .eventSourceClaimed && refusal.index == 3 && refusal.field == "eventSource")
                #expect(refusal.message.contains("uid \(peer.uid)"))
            }
        }
        let message = try #require(claims.refusal(eventSource: "billing.example.com", peer: peer(uid: 9, unit: "x.service"), index: 0)).message
        #expect(
            message
                == "eventSource billing.example.com is claimed by unit billing.service, gid 2001 (claim billing.example.com); this process (uid 9, gid 100, unit x.service) is none of them"
        )
    }

    @Test func theMostSpecificClaimGoverns() throws {
        let claims = try claims(["*.example.com=uid:1", "*.payments.example.com=uid:2", "eu.payments.example.com=uid:3"])
        #expect(claims.claim(for: "eu.payments.example.com")?.principals == [.uid(3)])
        #expect(claims.claim(for: "us.payments.example.com")?.principals == [.uid(2)])
        #expect(claims.claim(for: "shop.example.com")?.principals == [.uid(1)])
        #expect(claims.claim(for: "example.org") == nil)
    }

    @Test func badClaimsAreRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("billing.example.com", "expected EVENT_SOURCE=PRINCIPAL"),
            ("billing.example.com=", "names no principal"),
            ("billing.example.com=root", "must be uid:N"),
            ("billing.example.com=uid:x", "x is not a uid"),
            ("billing.example.com=user:nobody-here", "no user nobody-here"),
            ("billing.example.com=group:nope", "no group nope"),
            ("billing.example.com=unit:billing", "not a unit name"),
            ("billing.example.com=pid:4", "unknown principal kind"),
            ("bad name=uid:1", "is not an event source name"),
            ("sshd.linux=uid:1", "belong to the agent"),
            ("*.linux=uid:1", "belong to the agent"),
            ("x.hosttrail=uid:1", "belong to the agent"),
        ]
        for (text, reason) in cases {
            #expect(throws: EventSourceClaims.ParseError.self, "\(text)") { try claims([text]) }
            do {
                _ = try claims([text])
            } catch {
                #expect("\(error)".contains(reason), "\(text): \(error)")
            }
        }
        #expect(throws: EventSourceClaims.ParseError.self) { try claims(["a.example.com=uid:1", "A.example.com=uid:2"]) }
    }

    @Test func supplementaryGroupsAreReadFromProcStatus() {
        let status = "Name:\tcat\nUmask:\t0022\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 27 1000 \nNStgid:\t1\n"
        #expect(PeerCredentials.supplementaryGroups(procStatus: status) == [4, 24, 27, 1000])
        #expect(PeerCredentials.supplementaryGroups(procStatus: "Groups:\t\n").isEmpty)
        #expect(PeerCredentials.supplementaryGroups(procStatus: "").isEmpty)
    }

    @Test func aTokenBucketRefillsAtItsRateUpToItsCapacity() {
        var bucket = TokenBucket(rate: 10, capacity: 20, now: 0)
        #expect(bucket.take(20, now: 0) == nil)
        #expect(bucket.take(5, now: 0) == 0.5)  // 5 tokens at 10 a second
        #expect(bucket.take(5, now: 0.5) == nil)
        #expect(bucket.take(1, now: 0.5) != nil)
        #expect(bucket.isFull(now: 2.5))
        #expect(bucket.take(25, now: 100) == nil)  // larger than the bucket: costs the whole bucket, passes when full
        #expect(bucket.tokens == 0)
        #expect(bucket.take(1, now: 99) != nil)  // a clock going back refills nothing
    }
}
