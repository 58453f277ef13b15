// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// The digest signing keys the collector keeps in `<data-dir>/keys/`: `signing-key-<time>.pem`
/// (mode 0600) and its public half `signing-key-<time>.pub.pem`, which operators hand to
/// `hosttrail validate --public-key`. The newest is in use; older ones stay for the record.
public enum SigningKeyFiles {
    /// The key to sign with: `configured` if given, else the newest in `directory`, else a new one.
    public static func load(configured: String?, directory: String) throws -> DigestSigningKey {
        if let configured {
            return try read(configured)
        }
        if let newest = try newest(in: directory) {
            return try read(directory + "/" + newest)
        }
        return try generate(in: directory, now: Date())
    }

    /// Writes a new key (and its public half) to `directory`; it is used from the next start on.
    @discardableResult
    public static func generate(in directory: String, now: Date) throws -> DigestSigningKey {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let key = try DigestSigningKey.generate()
            var name = "signing-key-\(ArchiveLayout.compact(Int64(now.timeIntervalSince1970)))"
            // Two rotations in one second still make two keys, in order.
            var suffix = 1
            while FileManager.default.fileExists(atPath: "\(directory)/\(name).pem") {
                suffix += 1
                name = "signing-key-\(ArchiveLayout.compact(Int64(now.timeIntervalSince1970)))-\(suffix)"
            }
            try DurableFile.write(Array(key.publicKey.pemRepresentation.utf8), to: "\(directory)/\(name).pub.pem", mode: 0o644)
            try DurableFile.write(Array(key.pemRepresentation.utf8), to: "\(directory)/\(name).pem", mode: 0o600)
            return key
        } catch let error as CollectorError {
            throw error
        } catch {
            throw CollectorError(.archiveUnavailable, "cannot generate a digest signing key", context: directory, underlyingError: error)
        }
    }

    /// The newest private key file's name in `directory`.
    static func newest(in directory: String) throws -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let keys = names.filter { $0.hasPrefix("signing-key-") && $0.hasSuffix(".pem") && !$0.hasSuffix(".pub.pem") }
        // signing-key-<stamp>[-N].pem: by stamp, then N.
        func order(_ name: String) -> (String, Int) {
            let parts = name.dropFirst("signing-key-".count).dropLast(".pem".count).split(separator: "-")
            return (String(parts.first ?? ""), parts.count > 1 ? Int(parts[1]) ?? 0 : 1)
        }
        return keys.max { order($0) < order($1) }
    }

    static func read(_ path: String) throws -> DigestSigningKey {
        do {
            return try DigestSigningKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw CollectorError(
                .archiveUnavailable, "cannot read the digest signing key (an RSA private key in PEM)", context: path, underlyingError: error)
        }
    }
}
