// SPDX-License-Identifier: Apache-2.0

import Foundation
import TrailCore

/// The archive's bookkeeping, kept by the event store in its own database (``EventStore/archiveLedger``)
/// so that claiming events for a log file and remembering the claim are one transaction. The
/// archive (``ArchiveWriter``, ``ArchiveUploader``, `ListPublicKeys`) sees only this; a store
/// implements it beside its tables (``SQLiteArchiveLedger``).
///
/// A log file is first *claimed* (its row and its events in one transaction), then written, then
/// marked written with its hash. A crash between the two leaves a claim that is written again,
/// under the same name, with the same events: every event is in exactly one log file. Digests are
/// signed and stored whole before their file is written, for the same reason.
public protocol ArchiveLedger: Sendable {
    /// Claims up to `limit` events of `kind` (Insights or the rest) not yet in any log file, in
    /// the order they were stored, for a new one named `key`; `nil` when there are none.
    /// `records` of the result is how many.
    func claimLogFile(key: String, kind: ArchiveLayout.LogKind, deliveredAt: Int64, limit: Int) async throws -> ArchiveLogFile?
    /// Claims not yet written (after a crash).
    func unwrittenLogFiles() async throws -> [ArchiveLogFile]
    /// When the oldest record not yet in a written log file was received (ms since the epoch);
    /// `nil` when every record is: the archive's lag behind the store.
    func oldestUnarchivedReceivedAt() async throws -> Int64?
    /// The claimed events' canonical JSON and time (ms), in the order they were stored.
    func records(inLogFile id: Int64) async throws -> [(eventTime: Int64, json: String)]
    func logFileWritten(id: Int64, sha256: String, oldestEventTime: Int64, newestEventTime: Int64, records: Int) async throws

    /// Creates the next digest in one transaction: `make` gets the previous digest (`nil` for the
    /// first) and every written log file no digest lists yet, and returns the signed digest; it is
    /// stored, and the log files are marked as listed by it.
    func createDigest(_ make: @escaping @Sendable (_ previous: ArchiveDigest?, _ logFiles: [ArchiveLogFile]) throws -> ArchiveDigest)
        async throws -> ArchiveDigest
    /// The newest digest, if any.
    func lastDigest() async throws -> ArchiveDigest?
    /// Digests stored but whose file is not written yet (after a crash).
    func unwrittenDigests() async throws -> [ArchiveDigest]
    func digestWritten(id: Int64) async throws

    /// What is written but not uploaded yet, in the order to upload it: every log file before the
    /// digest that lists it.
    func pendingUploads(limit: Int) async throws -> [ArchiveUpload]
    func uploaded(_ upload: ArchiveUpload) async throws

    /// Makes `key` the current signing key from `now` (epoch seconds); the one before stays
    /// listed, valid until now.
    func useSigningKey(fingerprint: String, der: Data, now: Int64) throws
    /// Keys that were valid at some time in `[start, end]` (epoch seconds), oldest first.
    func publicKeys(start: Int64, end: Int64) async throws -> [SigningPublicKey]
}

/// A log file claimed or written.
public struct ArchiveLogFile: Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var sha256: String?
    public var oldestEventTime: Int64?
    public var newestEventTime: Int64?
    public var records: Int?
}

/// A digest, signed.
public struct ArchiveDigest: Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var startTime: Int64
    public var endTime: Int64
    public var json: Data
    public var sha256: String
    public var signature: String
    public var fingerprint: String
}

/// A file written to the directory and waiting for the bucket.
public struct ArchiveUpload: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case logFile
        case digest
    }
    public var kind: Kind
    public var id: Int64
    public var key: String
    /// A digest's signature, sent as `x-amz-meta-signature`.
    public var signature: String?
}

/// A signing key's public half and when it signed.
public struct SigningPublicKey: Sendable, Hashable {
    public var fingerprint: String
    public var der: Data
    public var validFrom: Int64
    public var validUntil: Int64?
}
