// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import Foundation
import TrailCore

/// Copies a trail's archive from an S3-compatible bucket into a local directory that
/// ``ArchiveValidator`` checks: every object under `[prefix/]AWSLogs/` (ListObjects v1, SigV4,
/// path-style), each digest's `x-amz-meta-signature` into its `.sig` sidecar.
///
/// A log file whose ETag and size are those of the copy already there is not fetched again, so a
/// re-run downloads only what changed: its bytes cannot change without its ETag. A digest's
/// signature is metadata, which a copy of the object onto itself replaces with neither the ETag
/// nor the size changing: it is read again (`HEAD`) on every run.
public struct BucketMirror {
    /// SigV4 credentials, as for the collector's API.
    public typealias Credentials = LookupClient.Credentials

    let bucket: S3Client
    let prefix: String

    public init(endpoint: String, bucket: String, prefix: String, credentials: Credentials, caFile: String?) throws {
        do {
            self.bucket = try S3Client(
                endpoint: endpoint, bucket: bucket, region: credentials.region, accessKeyID: credentials.accessKeyID,
                secret: credentials.secretAccessKey, caFile: caFile, totalTimeout: .seconds(300))
        } catch let failure as S3Client.Failure {
            throw ArchiveValidationError("\(failure)")
        }
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// Mirrors into `directory`; returns the directory that holds `AWSLogs/` and how many objects were fetched.
    public func mirror(into directory: String) throws -> (root: String, fetched: Int, listed: Int) {
        let keyPrefix = (prefix.isEmpty ? "" : prefix + "/") + "AWSLogs/"
        let etagsPath = directory + "/.etags.json"
        var etags = (FileManager.default.contents(atPath: etagsPath)).flatMap { try? JSONDecoder().decode([String: String].self, from: $0) } ?? [:]
        var fetched = 0
        let objects: [S3Client.Object]
        do {
            objects = try bucket.list(prefix: keyPrefix)
        } catch {
            throw ArchiveValidationError("cannot list the bucket: \(error)")
        }
        for object in objects where object.key.hasSuffix(".json.gz") {
            // The listing is the bucket's word: a key that would land outside the copy is refused.
            guard object.key.hasPrefix(keyPrefix), ArchiveLayout.isContained(object.key) else {
                throw ArchiveValidationError("the bucket listed \"\(object.key)\", which is not a key under \(keyPrefix); refusing to copy it")
            }
            let path = directory + "/" + object.key
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            if etags[object.key] == object.etag && size == object.size {
                if object.key.contains("/CloudTrail-Digest/") {
                    let metadata: [String: String]
                    do {
                        metadata = try bucket.metadata(key: object.key)
                    } catch {
                        throw ArchiveValidationError("cannot read a digest's signature from the bucket: \(error)")
                    }
                    try writeSignature(metadata["signature"], for: path)
                }
                continue
            }
            let response: (body: Data, metadata: [String: String])
            do {
                response = try bucket.get(key: object.key)
            } catch {
                throw ArchiveValidationError("cannot fetch from the bucket: \(error)")
            }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try response.body.write(to: URL(fileURLWithPath: path))
            if object.key.contains("/CloudTrail-Digest/") { try writeSignature(response.metadata["signature"], for: path) }
            etags[object.key] = object.etag
            fetched += 1
        }
        // Objects gone from the bucket go from the copy too, so the validator sees them missing.
        let present = Set(objects.map(\.key))
        for key in etags.keys where !present.contains(key) && ArchiveLayout.isContained(key) {
            try? FileManager.default.removeItem(atPath: directory + "/" + key)
            try? FileManager.default.removeItem(atPath: directory + "/" + key + ".sig")
            etags[key] = nil
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try JSONEncoder().encode(etags).write(to: URL(fileURLWithPath: etagsPath))
        return (prefix.isEmpty ? directory : directory + "/" + prefix, fetched, objects.count)
    }

    /// The `.sig` sidecar of the digest copied to `path`: the bucket's signature, or none.
    func writeSignature(_ signature: String?, for path: String) throws {
        if let signature {
            try Data((signature + "\n").utf8).write(to: URL(fileURLWithPath: path + ".sig"))
        } else {
            try? FileManager.default.removeItem(atPath: path + ".sig")
        }
    }
}
