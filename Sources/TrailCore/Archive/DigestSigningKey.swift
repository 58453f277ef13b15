// SPDX-License-Identifier: Apache-2.0

import Crypto
import CryptoExtras
import FoundationEssentials

/// The RSA key that signs digests: PKCS#1 v1.5 over SHA-256, as CloudTrail signs them.
public struct DigestSigningKey: Sendable {
    let key: _RSA.Signing.PrivateKey

    /// A new 2048-bit key.
    public static func generate() throws -> DigestSigningKey {
        DigestSigningKey(key: try _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    /// Reads a PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    public init(pemRepresentation: String) throws {
        key = try _RSA.Signing.PrivateKey(pemRepresentation: pemRepresentation)
    }

    init(key: _RSA.Signing.PrivateKey) { self.key = key }

    public var pemRepresentation: String { key.pemRepresentation }
    public var publicKey: DigestPublicKey { DigestPublicKey(key: key.publicKey) }

    /// The hex signature of `text`'s UTF-8 bytes.
    public func sign(_ text: String) throws -> String {
        try key.signature(for: Data(text.utf8), padding: .insecurePKCS1v1_5).rawRepresentation.hexString
    }
}

/// A public key that verifies digests, known by its fingerprint (MD5 of its PKCS#1 DER, as AWS's).
public struct DigestPublicKey: Sendable {
    let key: _RSA.Signing.PublicKey

    init(key: _RSA.Signing.PublicKey) { self.key = key }

    /// PEM (`RSA PUBLIC KEY` or `PUBLIC KEY`).
    public init(pemRepresentation: String) throws {
        key = try _RSA.Signing.PublicKey(pemRepresentation: pemRepresentation)
    }

    /// DER, PKCS#1 (what `ListPublicKeys` returns) or SubjectPublicKeyInfo.
    public init(derRepresentation: some DataProtocol) throws {
        key = try _RSA.Signing.PublicKey(derRepresentation: derRepresentation)
    }

    /// PKCS#1 DER: `ListPublicKeys`' `Value`.
    public var pkcs1DER: Data { key.pkcs1DERRepresentation }
    public var pemRepresentation: String { key.pkcs1PEMRepresentation }

    /// 32 hex digits: MD5 of the PKCS#1 DER.
    public var fingerprint: String { Data(Insecure.MD5.hash(data: pkcs1DER)).hexString }

    /// Whether `signatureHex` is this key's signature of `text`.
    public func verify(signatureHex: String, of text: String) -> Bool {
        guard let bytes = Data(hexString: signatureHex) else { return false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: bytes), for: Data(text.utf8), padding: .insecurePKCS1v1_5)
    }
}

extension Data {
    /// Lower-case hex.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The value of one hex digit (either case); `nil` for any other byte.
    static func hexDigitValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Bytes of a hex string (either case); `nil` when it is not one.
    public init?(hexString: String) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = Data.hexDigitValue(utf8[index]), let low = Data.hexDigitValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }
}
