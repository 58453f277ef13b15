// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import TrailCollector

struct RevocationListTests {
    @Test func entriesMatchByNameOrSerialHoweverTheSerialIsWritten() throws {
        let list = try RevocationList(fileText: "# revoked\ncn:web-03\nweb-04   # a bare name is a CN\nserial:00:0A:1b:FF\n\nserial:7f\r\n")
        #expect(list.count == 4)
        #expect(list.revokes(commonName: "web-03", serialNumber: "01"))
        #expect(list.revokes(commonName: "web-04", serialNumber: "01"))
        // openssl prints F4FA…, X509 bytes give 0a:1b:ff; both compare without colons, case or leading zeros.
        for serial in ["0a:1b:ff", "0A1BFF", "a1bff", "00:0a:1b:ff"] {
            #expect(list.revokes(commonName: "web-01", serialNumber: serial), "\(serial)")
        }
        #expect(list.revokes(commonName: "web-01", serialNumber: "7F"))
        #expect(!list.revokes(commonName: "web-01", serialNumber: "a1bf"))
        #expect(!list.revokes(commonName: "web-05", serialNumber: "01"))
        for bad in ["serial:xyz", "serial:", "cn:", "two words"] {
            #expect(throws: RevocationList.ParseError.self, "\(bad)") { try RevocationList(fileText: bad) }
        }
    }
}
