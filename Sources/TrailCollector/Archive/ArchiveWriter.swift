// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import Crypto
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TrailCore

/// Writes every stored record to exactly one CloudTrail log file (gzip `{"Records":[…]}`; Insights
/// in their own, under `CloudTrail-Insight/`) every
/// `logFileInterval`, or as soon as a file's worth is waiting (``ArchiveBacklog``), and at every multiple of `digestInterval` a digest listing the log files
/// written since the previous one, chained to it and signed; both under `directory` in
/// CloudTrail's key layout, the digest's signature beside it in `<digest>.sig` (hex).
///
/// At a graceful shutdown it writes what is stored and a final digest, as CloudTrail does when a
/// trail stops; after a crash it first finishes the log files and digests it had begun.
public struct ArchiveWriter: Service {
    let ledger: any ArchiveLedger
    let layout: ArchiveLayout
    let directory: String
    let signingKey: DigestSigningKey
    let logFileInterval: Duration
    let digestInterval: Duration
    let backlog: ArchiveBacklog
    let logger: Logger
    /// Records per log file: files of a few MB, as CloudTrail's are.
    public static let recordsPerFile = 5000

    public init(
        ledger: any ArchiveLedger, layout: ArchiveLayout, directory: String, signingKey: DigestSigningKey, logFileInterval: Duration,
        digestInterval: Duration, backlog: ArchiveBacklog = ArchiveBacklog(), logger: Logger
    ) {
        self.backlog = backlog
        self.ledger = ledger
        self.layout = layout
        self.directory = directory
        self.signingKey = signingKey
        self.logFileInterval = logFileInterval
        self.digestInterval = digestInterval
        self.logger = logger
    }

    public func run() async throws {
        let chainStart = Self.now()
        try await recover()
        await cancelWhenGracefulShutdown { await self.writePeriodically(chainStart: chainStart) }
        // Shutting down: what is stored goes into log files, and a final digest covers them.
        do {
            try await writeLogFiles()
            try await writeDigest(chainStart: chainStart)
        } catch {
            logger.error("cannot write the final log files and digest; they are written at the next start", metadata: ["error": "\(error)"])
        }
    }

    /// Log files every `logFileInterval`, a digest at every multiple of `digestInterval`, until cancelled.
    func writePeriodically(chainStart: Int64) async {
        let digestSeconds = max(1, digestInterval.components.seconds)
        var nextDigest = (chainStart / digestSeconds + 1) * digestSeconds
        var nextLogFile = ContinuousClock.now + logFileInterval
        var backoff = RetryBackoff(base: .seconds(1), cap: .seconds(60))
        while !Task.isCancelled {
            let untilDigest = Duration.milliseconds(max(0, nextDigest * 1000 - Self.nowMilliseconds()))
            let untilLogFile = nextLogFile - ContinuousClock.now
            let filled = await backlog.wakeup.wait(atMost: max(.zero, min(untilDigest, untilLogFile)))
            if Task.isCancelled { return }
            do {
                if ContinuousClock.now >= nextLogFile {
                    try await writeLogFiles()
                    nextLogFile = ContinuousClock.now + logFileInterval
                } else if filled {
                    try await writeLogFiles(fullFiles: backlog.takeFullFiles())
                }
                if Self.now() >= nextDigest {
                    try await writeLogFiles()
                    try await writeDigest(chainStart: chainStart)
                    nextDigest = (Self.now() / digestSeconds + 1) * digestSeconds
                }
                backoff.succeeded()
            } catch {
                let delay = backoff.failed(randomFraction: Double.random(in: 0...1))
                logger.error("cannot write the archive; trying again", metadata: ["error": "\(error)", "archive.retry": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Finishes the log files and digests a crash interrupted, under the names they were given.
    func recover() async throws {
        for file in try await ledger.unwrittenLogFiles() {
            logger.notice("writing a log file begun before a crash", metadata: ["archive.key": "\(file.key)"])
            try await write(file)
        }
        for digest in try await ledger.unwrittenDigests() {
            try writeDigestFile(digest)
            try await ledger.digestWritten(id: digest.id)
        }
    }

    /// Writes the records not yet in a log file, file after full file, and stops at the first
    /// file that is not full (so a steady stream cannot hold digests up), or after `fullFiles`
    /// files (the full ones ``ArchiveBacklog`` counted); returns how many files.
    @discardableResult
    public func writeLogFiles(fullFiles: Int? = nil) async throws -> Int {
        if fullFiles == nil { backlog.takeAll() }
        if fullFiles == 0 { return 0 }
        var files = 0
        var generator = SystemRandomNumberGenerator()
        for kind in ArchiveLayout.LogKind.allCases {
            while true {
                let now = Self.now()
                let key = layout.logFileKey(delivered: now, unique: ArchiveLayout.uniqueString(using: &generator), kind: kind)
                guard let claim = try await ledger.claimLogFile(key: key, kind: kind, deliveredAt: now, limit: Self.recordsPerFile) else { break }
                try await write(claim)
                files += 1
                if files == fullFiles { return files }
                if (claim.records ?? 0) < Self.recordsPerFile { break }
            }
        }
        return files
    }

    func write(_ file: ArchiveLogFile) async throws {
        let records = try await ledger.records(inLogFile: file.id)
        var body: [UInt8] = []
        body.reserveCapacity(records.reduce(16) { $0 + $1.json.utf8.count + 1 })
        body.append(contentsOf: #"{"Records":["#.utf8)
        for (index, record) in records.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: record.json.utf8)
        }
        body.append(contentsOf: "]}".utf8)
        let sha256 = Data(SHA256.hash(data: body)).hexString
        try DurableFile.write(try Self.gzip(body), to: directory + "/" + file.key)
        let oldest = (records.map(\.eventTime).min() ?? Self.nowMilliseconds()) / 1000
        let newest = (records.map(\.eventTime).max() ?? Self.nowMilliseconds()) / 1000
        try await ledger.logFileWritten(id: file.id, sha256: sha256, oldestEventTime: oldest, newestEventTime: newest, records: records.count)
    }

    /// Signs and writes the digest of every log file written since the previous digest.
    @discardableResult
    public func writeDigest(chainStart: Int64) async throws -> ArchiveDigest {
        let layout = layout
        let signingKey = signingKey
        let now = Self.now()
        let digest = try await ledger.createDigest { previous, files in
            // Digest names carry their end second: never two in one second.
            let end = max(now, (previous?.endTime ?? 0) + 1)
            let start = previous?.endTime ?? min(chainStart, end - 1)
            let previousLink = try previous.map { previous in
                DigestFile.Previous(
                    bucket: try DigestFile(json: previous.json).bucket, key: previous.key, sha256: previous.sha256, signature: previous.signature)
            }
            let publicKey = signingKey.publicKey
            let file = DigestFile(
                accountID: layout.accountID, startTime: start, endTime: end, bucket: layout.bucket, key: layout.digestKey(end: end),
                publicKeyFingerprint: publicKey.fingerprint, previous: previousLink,
                logFiles: files.map { file in
                    DigestFile.LogFile(
                        bucket: layout.bucket, key: file.key, sha256: file.sha256 ?? "", oldestEventTime: file.oldestEventTime ?? start,
                        newestEventTime: file.newestEventTime ?? start)
                })
            let json = file.json()
            let sha256 = Data(SHA256.hash(data: json)).hexString
            let signature = try signingKey.sign(file.stringToSign(digestSHA256: sha256))
            return ArchiveDigest(
                id: 0, key: file.key, startTime: start, endTime: end, json: Data(json), sha256: sha256, signature: signature,
                fingerprint: publicKey.fingerprint)
        }
        try writeDigestFile(digest)
        try await ledger.digestWritten(id: digest.id)
        logger.info("wrote a digest", metadata: ["archive.key": "\(digest.key)"])
        return digest
    }

    func writeDigestFile(_ digest: ArchiveDigest) throws {
        let path = directory + "/" + digest.key
        try DurableFile.write(Array((digest.signature + "\n").utf8), to: path + ".sig")
        try DurableFile.write(try Self.gzip(Array(digest.json)), to: path)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let compressed = try buffer.compress(with: .gzip(configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 6)))
        return Array(compressed.readableBytesView)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
