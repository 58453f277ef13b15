// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import TrailCore

struct EventIDTests {
    let machine = "3d1219c7c4c5404aaa1f6d2a48adfda4"

    @Test func sameSourcePositionGivesTheSameID() {
        let first = EventID.derive(machineID: machine, source: "journal", position: "s=abc;i=42")
        let second = EventID.derive(machineID: machine, source: "journal", position: "s=abc;i=42")
        #expect(first == second)
    }

    @Test(arguments: [
        ("other-machine", "journal", "s=abc;i=42"),
        ("3d1219c7c4c5404aaa1f6d2a48adfda4", "file:/var/log/auth.log", "s=abc;i=42"),
        ("3d1219c7c4c5404aaa1f6d2a48adfda4", "journal", "s=abc;i=43"),
    ])
    func anyDifferenceGivesAnotherID(machineID: String, source: String, position: String) {
        #expect(
            EventID.derive(machineID: machineID, source: source, position: position)
                != EventID.derive(machineID: machine, source: "journal", position: "s=abc;i=42"))
    }

    /// IDs must never change between versions (a spool or a file re-read after an upgrade must
    /// give the same ones): values computed independently with Python's hashlib.
    @Test func theDerivationIsStable() {
        #expect(EventID.derive(machineID: machine, source: "journal", position: "s=abc;i=42") == "135fb5ef-4a47-8f93-b718-1cc332c723b3")
        #expect(EventID.derive(machineID: "m", source: "file:/var/log/auth.log", position: "é;offset=7") == "549211d5-ac7b-8afa-8854-f0aa4bd19adc")
    }

    /// A file's lines hash their shared start once; the IDs are those of the whole positions.
    @Test func aSharedPrefixGivesTheIDsOfTheWholePositions() {
        let positionPrefix = "ino=16327472;head=bd296fe7941ea6e3af1d352676d7aee4;offset="
        let prefix = EventID.prefix(machineID: "m", source: "file:/var/log/auth.log", positionPrefix: "é;offset=")
        #expect(EventID.derive(prefix, positionSuffix: "7") == "549211d5-ac7b-8afa-8854-f0aa4bd19adc")
        let lines = EventID.prefix(machineID: machine, source: "file:/var/log/auth.log", positionPrefix: positionPrefix)
        for offset in [0, 1, 139, 1 << 40] {
            #expect(
                EventID.derive(lines, positionSuffix: String(offset))
                    == EventID.derive(machineID: machine, source: "file:/var/log/auth.log", position: positionPrefix + String(offset)))
        }
        // The prefix is a value: deriving from it leaves it as it was.
        #expect(EventID.derive(lines, positionSuffix: "5") == EventID.derive(lines, positionSuffix: "5"))
    }

    @Test func aFileLineOriginCarriesTheIDOfItsPosition() {
        let builder = HostRecordBuilder(host: HostIdentity(hostname: "web-1", machineID: machine, bootID: "b"))
        let lines = builder.fileLines(source: "file:/var/log/auth.log", path: "/var/log/auth.log", positionPrefix: "ino=1;head=ab;offset=")
        var origin = lines.origin(offset: 42)
        #expect(origin.position == "ino=1;head=ab;offset=42")
        #expect(origin.eventID == EventID.derive(machineID: machine, source: "file:/var/log/auth.log", position: "ino=1;head=ab;offset=42"))
        origin.position = "ino=1;head=ab;offset=43"
        #expect(origin.eventID == nil, "a changed position must not keep the old ID")
    }

    @Test func partsCannotBeShiftedIntoEachOther() {
        // "ab" + "c" and "a" + "bc" must not collide: parts are NUL-separated.
        #expect(EventID.derive(machineID: machine, source: "ab", position: "c") != EventID.derive(machineID: machine, source: "a", position: "bc"))
    }

    @Test func looksLikeAVersion8UUID() throws {
        let id = EventID.derive(machineID: machine, source: "socket", position: "1")
        #expect(id.count == 36)
        #expect(id == id.lowercased())
        let uuid = try #require(UUID(uuidString: id))
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 8)
        #expect(bytes[8] >> 6 == 0b10)
        #expect(EventID.isWellFormed(id))
        #expect(!EventID.isWellFormed("not-an-id"))
    }

    @Test func knownValueIsStable() {
        // Pinned: changing the derivation would make every re-read record a new one at the collector.
        let pinned = EventID.derive(machineID: "00000000000000000000000000000000", source: "socket", position: "uid=0;request=r;index=0")
        #expect(pinned == Self.pinnedValue)
    }

    /// Computed independently: python3 hashlib.sha256 over the same NUL-joined parts, version and variant bits set.
    static let pinnedValue = "64979448-78f2-8c9f-8eac-f60b3a0ba436"

    @Test func applicationRequestIDsAreSeparatedByUID() {
        let alice = EventID.forApplicationRequest(machineID: machine, uid: 1000, requestID: "req-1", index: 0)
        let bob = EventID.forApplicationRequest(machineID: machine, uid: 1001, requestID: "req-1", index: 0)
        #expect(alice != bob)
        #expect(alice == EventID.forApplicationRequest(machineID: machine, uid: 1000, requestID: "req-1", index: 0))
    }
}

struct RandomUUIDTests {
    @Test func randomUUIDsAreVersionFourAndDistinct() {
        let made = (0..<1000).map { _ in RandomUUID.make() }
        #expect(Set(made).count == 1000)
        for text in made {
            #expect(EventID.isWellFormed(text))
            #expect(text == text.lowercased())
            let characters = Array(text)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }
}
