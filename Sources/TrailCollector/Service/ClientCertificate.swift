// SPDX-License-Identifier: Apache-2.0

import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// How the collector learns a connection's client certificate: ``ClientCertificate/of(channel:)``
/// on a TLS connection; tests of the routes hand in one of their own.
typealias ClientCertificateReader = @Sendable (any Channel) async throws -> ClientCertificate?

/// The verified client certificate of a connection, reduced to what the collector uses.
struct ClientCertificate: Sendable, Hashable {
    /// The subject's common name: the host's name.
    var commonName: String
    /// The serial number, hex.
    var serialNumber: String
    /// When it expires (`hosttrail status` warns ahead of it).
    var notValidAfter: Date?

    /// Reads the peer certificate NIOSSL verified against the client CA, or `nil` without one.
    static func of(channel: any Channel) async throws -> ClientCertificate? {
        guard let certificate = try await channel.nioSSL_peerCertificate().get() else { return nil }
        let parsed = try Certificate(derEncoded: try certificate.toDERBytes())
        var commonName: String?
        for relativeName in parsed.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                commonName = Self.text(of: attribute)
            }
        }
        guard let commonName, !commonName.isEmpty else { return nil }
        // X509's description drops each byte's leading zero ("a:1b"); revocation lists use openssl's form.
        let serial = parsed.serialNumber.bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined(separator: ":")
        return ClientCertificate(commonName: commonName, serialNumber: serial, notValidAfter: parsed.notValidAfter)
    }

    /// The attribute's string value (X509 prints it as-is for the string types).
    static func text(of attribute: RelativeDistinguishedName.Attribute) -> String {
        attribute.value.description
    }
}
