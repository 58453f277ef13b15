// SPDX-License-Identifier: Apache-2.0

import Crypto
import FoundationEssentials

/// Deterministic event IDs.
///
/// An event's ID is derived from the machine it happened on and its stable position at its source
/// (a journal cursor; a file identity and offset; an application's request ID and uid), never from
/// a clock or a random number. A record that is read or sent again after a crash gets the same ID,
/// and the collector, which keeps `eventID` unique, stores it once.
///
/// The ID is a UUID in the RFC 9562 version 8 layout (custom), the first 122 bits of
/// SHA-256(`hosttrail.event-id.v1` NUL machineID NUL source NUL position), printed in lower case
/// like CloudTrail's GUIDs.
public enum EventID {
    /// Derives the ID of the event at `position` of `source` on machine `machineID`.
    ///
    /// - Parameters:
    ///   - machineID: `/etc/machine-id` of the host.
    ///   - source: The source kind and instance, e.g. `socket`, `journal`, `file:/var/log/auth.log`.
    ///   - position: The event's stable position within that source.
    public static func derive(machineID: String, source: String, position: String) -> String {
        // Hashed in one go (no `Prefix`: its copy-on-write state would be copied once per event).
        var hasher = start(machineID: machineID, source: source)
        add(position, to: &hasher)
        return finish(hasher)
    }

    /// The hash state after what a run of IDs shares (a file's lines share the machine, the
    /// source and the file's identity; only the offset differs), so each ID hashes its own end:
    /// one SHA-256 block a line instead of three.
    public struct Prefix: Sendable {
        fileprivate var hasher: SHA256
    }

    /// The shared start of the IDs whose positions begin with `positionPrefix`.
    public static func prefix(machineID: String, source: String, positionPrefix: String) -> Prefix {
        var hasher = start(machineID: machineID, source: source)
        add(positionPrefix, to: &hasher)
        return Prefix(hasher: hasher)
    }

    /// The ID at position `prefix`'s `positionPrefix` + `positionSuffix`: the same as
    /// ``derive(machineID:source:position:)`` with the whole position.
    public static func derive(_ prefix: Prefix, positionSuffix: String) -> String {
        var hasher = prefix.hasher
        add(positionSuffix, to: &hasher)
        return finish(hasher)
    }

    /// `hosttrail.event-id.v1` NUL machineID NUL source NUL, hashed.
    private static func start(machineID: String, source: String) -> SHA256 {
        var hasher = SHA256()
        add("hosttrail.event-id.v1", to: &hasher)
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        add(machineID, to: &hasher)
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        add(source, to: &hasher)
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        return hasher
    }

    /// The first 122 bits of the digest as a version 8 UUID.
    private static func finish(_ hasher: SHA256) -> String {
        hasher.finalize().withUnsafeBytes { digest in
            var bytes = (UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: digest.prefix(16))) }
            return withUnsafeMutableBytes(of: &bytes) { id in
                id[6] = (id[6] & 0x0F) | 0x80  // version 8
                id[8] = (id[8] & 0x3F) | 0x80  // RFC 9562 variant
                return format(UnsafeRawBufferPointer(id))
            }
        }
    }

    /// Hashes `part` where it is (no copy: this runs for every record).
    private static func add(_ part: String, to hasher: inout SHA256) {
        var part = part
        part.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    /// The ID of an application event: the client's request ID together with the peer's uid, so two
    /// applications cannot collide (or overwrite each other) by choosing the same request ID.
    public static func forApplicationRequest(machineID: String, uid: UInt32, requestID: String, index: Int) -> String {
        derive(machineID: machineID, source: "socket", position: "uid=\(uid);request=\(requestID);index=\(index)")
    }

    /// Whether `text` has the shape of an event ID (a UUID, any case).
    public static func isWellFormed(_ text: String) -> Bool {
        UUID(uuidString: text) != nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { format($0) }
    }

    /// Sixteen bytes as a lower-case UUID.
    static func format(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 36) { text in
            let digits: StaticString = "0123456789abcdef"
            var next = 0
            digits.withUTF8Buffer { digits in
                for (index, byte) in bytes.prefix(16).enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[next] = 45
                        next += 1
                    }
                    text[next] = digits[Int(byte >> 4)]
                    text[next + 1] = digits[Int(byte & 0x0F)]
                    next += 2
                }
            }
            return next
        }
    }
}
