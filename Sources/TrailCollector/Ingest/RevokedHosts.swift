// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Synchronization

/// The revocation list in force, read from `--revocation-file` at start and again on each reload (SIGHUP).
///
/// A file that cannot be read or parsed on reload leaves the previous list in force (and says
/// so): a typo must not let revoked hosts back in.
public final class RevokedHosts: Sendable {
    let path: String?
    private let list: Mutex<RevocationList>
    /// When each refused host was last recorded, so a retrying host adds one record a minute.
    private let lastRecorded = Mutex<[String: Date]>([:])
    let logger: Logger

    /// - Throws: ``CollectorError`` when the file cannot be read or parsed at start.
    public init(path: String?, logger: Logger) throws {
        self.path = path
        self.logger = logger
        list = Mutex(try path.map(Self.read) ?? RevocationList())
    }

    static func read(_ path: String) throws -> RevocationList {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CollectorError(.invalidConfiguration, "cannot read the revocation file", context: path)
        }
        do {
            return try RevocationList(fileText: text)
        } catch {
            throw CollectorError(.invalidConfiguration, "the revocation file is malformed: \(error)", context: path)
        }
    }

    func revokes(_ certificate: ClientCertificate) -> Bool {
        list.withLock { $0.revokes(commonName: certificate.commonName, serialNumber: certificate.serialNumber) }
    }

    /// Whether a refusal of `host` now should be recorded (at most one a minute per host).
    func shouldRecordRefusal(of host: String, now: Date = Date()) -> Bool {
        lastRecorded.withLock { recorded in
            if let last = recorded[host], now.timeIntervalSince(last) < 60 { return false }
            recorded[host] = now
            return true
        }
    }

    /// Reloads the file.
    public func reload() {
        guard let path else { return }
        do {
            let fresh = try Self.read(path)
            list.withLock { $0 = fresh }
            logger.notice("revocation list reloaded", metadata: ["revocation.file": "\(path)", "revocation.entries": "\(fresh.count)"])
        } catch {
            logger.error("revocation list not reloaded; the previous one stays in force", metadata: ["error": "\(error)"])
        }
    }
}
