// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation
import SwiftASN1
import TrailCore
import X509

/// Makes a development PKI: a CA, a collector certificate for `localhost`/`127.0.0.1`, and one
/// client certificate per host, as PEM files in one directory.
///
/// For trying HostTrail out and for tests; production fleets use their own CA. Keys are ECDSA
/// P-256, written with mode 0600. An existing `ca.pem` + `ca-key.pem` in the directory is reused, so
/// hosts can be added later and still be trusted by a running collector.
public struct DevCertificateAuthority {
    /// What was written.
    public struct Output: Sendable {
        public var files: [String]
        public var reusedCA: Bool
    }

    public let directory: String
    /// Validity of every certificate made. Default: 825 days (the longest Apple-style clients accept).
    public var validity: TimeInterval = 825 * 86_400

    public init(directory: String) {
        self.directory = directory
    }

    /// Writes `ca.pem`, `ca-key.pem`, `collector.pem`, `collector-key.pem` and `NAME.pem`/`NAME-key.pem` for each host.
    ///
    /// - Parameter collectorNames: Names and addresses the collector's certificate is also valid
    ///   for, beside `localhost` and `127.0.0.1` (a collector other machines reach).
    public func write(hosts: [String], collectorNames: [String] = [], now: Date = Date()) throws -> Output {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [String] = []
        let (caCertificate, caKey, reused) = try loadOrCreateCA(now: now, files: &files)

        let collectorKey = P256.Signing.PrivateKey()
        let collector = try issue(
            commonName: "localhost", key: collectorKey, caCertificate: caCertificate, caKey: caKey, now: now,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(
                    [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
                        + collectorNames.map { name in
                            IPAddressBytes.parse(name).map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) } ?? .dnsName(name)
                        })
            })
        try write(certificate: collector, key: collectorKey, name: "collector", files: &files)

        for host in hosts {
            let key = P256.Signing.PrivateKey()
            let certificate = try issue(
                commonName: host, key: key, caCertificate: caCertificate, caKey: caKey, now: now,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.clientAuth])
                })
            try write(certificate: certificate, key: key, name: host, files: &files)
        }
        return Output(files: files, reusedCA: reused)
    }

    func loadOrCreateCA(now: Date, files: inout [String]) throws -> (Certificate, P256.Signing.PrivateKey, Bool) {
        let certificatePath = directory + "/ca.pem"
        let keyPath = directory + "/ca-key.pem"
        if FileManager.default.fileExists(atPath: certificatePath), FileManager.default.fileExists(atPath: keyPath) {
            let certificate = try Certificate(pemEncoded: try String(contentsOfFile: certificatePath, encoding: .utf8))
            let key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
            return (certificate, key, true)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("HostTrail development")
            CommonName("HostTrail Dev CA")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity * 4),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        try write(certificate: certificate, key: key, name: "ca", files: &files)
        return (certificate, key, false)
    }

    func issue(
        commonName: String, key: P256.Signing.PrivateKey, caCertificate: Certificate, caKey: P256.Signing.PrivateKey, now: Date,
        extensions: Certificate.Extensions
    ) throws -> Certificate {
        var extensions = extensions
        try extensions.append(
            Certificate.Extension(
                AuthorityKeyIdentifier(keyIdentifier: caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier), critical: false))
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: caCertificate.subject,
            subject: try DistinguishedName {
                OrganizationName("HostTrail development")
                CommonName(commonName)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: .init(caKey))
    }

    func write(certificate: Certificate, key: P256.Signing.PrivateKey, name: String, files: inout [String]) throws {
        let certificatePath = directory + "/\(name).pem"
        let keyPath = directory + "/\(name)-key.pem"
        try Data(try certificate.serializeAsPEM().pemString.utf8).write(to: URL(fileURLWithPath: certificatePath))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: certificatePath)
        // Create the key file private from the start rather than tightening it after writing.
        _ = FileManager.default.createFile(atPath: keyPath, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        try Data((key.pemRepresentation + "\n").utf8).write(to: URL(fileURLWithPath: keyPath))
        files.append(contentsOf: [certificatePath, keyPath])
    }

    /// Whether `name` can be a host certificate's file name and CN.
    public static func isValidHostName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253 && !name.hasPrefix(".") && !["ca", "collector"].contains(name)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }
    }
}
