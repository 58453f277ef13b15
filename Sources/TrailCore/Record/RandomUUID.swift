// SPDX-License-Identifier: Apache-2.0

/// Random (version 4) UUIDs from the system generator.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID, three
/// system calls on the socket's per-request path; `SystemRandomNumberGenerator` uses `getrandom`.
public enum RandomUUID {
    /// A new random UUID in lower case, like CloudTrail's request IDs.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * index))
            bytes[index + 8] = UInt8(truncatingIfNeeded: low >> (8 * index))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return EventID.format(bytes)
    }
}
