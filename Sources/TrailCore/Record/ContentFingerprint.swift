// SPDX-License-Identifier: Apache-2.0

import Crypto

/// A short content hash: the first 16 bytes of SHA-256, in hex. Names a file's first line in
/// tailing positions (part of event IDs, so it must never change).
public enum ContentFingerprint {
    public static func of(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in SHA256.hash(data: Array(bytes)).prefix(16) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
