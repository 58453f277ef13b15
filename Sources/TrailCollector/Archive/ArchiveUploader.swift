// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import Foundation
import Logging
import ServiceLifecycle
import TrailCore

/// Copies what ``ArchiveWriter`` wrote to an S3-compatible bucket, byte for byte: SigV4-signed
/// path-style `PUT`s, each log file before the digest that lists it, digests with their signature
/// in `x-amz-meta-signature`. Failures are retried with backoff for as long as it takes; the
/// directory copy is the source, so nothing is lost while the bucket is away.
public struct ArchiveUploader: Service {
    let ledger: any ArchiveLedger
    let directory: String
    let bucket: S3Client
    let logger: Logger

    public init(configuration: CollectorConfiguration, ledger: any ArchiveLedger, logger: Logger) throws {
        guard let endpoint = configuration.s3Endpoint, let credentials = configuration.s3Credentials else {
            throw CollectorError(.invalidConfiguration, "the archive upload needs s3-endpoint and s3-credentials-file")
        }
        self.ledger = ledger
        directory = configuration.archivePath
        do {
            bucket = try S3Client(
                endpoint: endpoint, bucket: configuration.s3Bucket, region: configuration.s3Region, accessKeyID: credentials.id,
                secret: credentials.secret, caFile: configuration.s3CAFile, totalTimeout: .seconds(120))
        } catch let failure as S3Client.Failure {
            throw CollectorError(.invalidConfiguration, "s3-endpoint is not a URL", context: endpoint, underlyingError: failure)
        }
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.uploadContinuously() }
        // The writer stops before this service does: its final digest goes up now, or at the next start.
        do {
            try await uploadPending()
        } catch {
            logger.warning("cannot upload the last archive files; they go up at the next start", metadata: ["error": "\(error)"])
        }
    }

    func uploadContinuously() async {
        var backoff = RetryBackoff(base: .seconds(1), cap: .seconds(60))
        while !Task.isCancelled {
            do {
                let uploaded = try await uploadPending()
                backoff.succeeded()
                if uploaded == 0 { try await Task.sleep(for: .milliseconds(500)) }
            } catch is CancellationError {
                return
            } catch {
                let delay = backoff.failed(randomFraction: Double.random(in: 0...1))
                logger.warning("cannot upload the archive to the bucket; retrying", metadata: ["error": "\(error)", "archive.retry": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Uploads what is waiting; returns how many objects went up.
    @discardableResult
    public func uploadPending() async throws -> Int {
        var count = 0
        while true {
            let pending = try await ledger.pendingUploads(limit: 100)
            if pending.isEmpty { return count }
            for item in pending {
                try Task.checkCancellation()
                let path = directory + "/" + item.key
                guard let body = FileManager.default.contents(atPath: path) else {
                    throw CollectorError(.archiveUnavailable, "a written archive file is missing from the directory", context: path)
                }
                try put(key: item.key, body: body, signature: item.signature)
                try await ledger.uploaded(item)
                count += 1
            }
        }
    }

    func put(key: String, body: Data, signature: String?) throws {
        let metadata = signature.map { [("signature", $0), ("signature-algorithm", DigestFile.signatureAlgorithm)] } ?? []
        do {
            try bucket.put(key: key, body: body, contentType: "application/x-gzip", metadata: metadata)
        } catch {
            throw CollectorError(.archiveUnavailable, "the bucket refused an archive file: \(error)", context: key)
        }
    }
}
