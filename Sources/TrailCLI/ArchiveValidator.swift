// SPDX-License-Identifier: Apache-2.0

import CompressNIO
import Crypto
import Foundation
import NIOCore
import TrailCore

/// Checks a CloudTrail archive directory (it holds `AWSLogs/`) as `aws cloudtrail validate-logs`
/// checks a bucket, and more strictly: every digest's signature against trusted keys, the chain
/// from each digest to the one before it (hash, signature, no gap in time), every listed log
/// file's SHA-256, and that no log file is there that no digest lists.
///
/// Each problem is named: a changed, missing, moved, swapped or added log file; a changed,
/// missing, moved or reordered digest; a gap; a signature by an untrusted key.
public struct ArchiveValidator {
    public struct Options {
        public var directory: String
        /// Trusted keys by fingerprint; never taken from the archive itself.
        public var trustedKeys: [String: DigestPublicKey]
        /// Epoch seconds; digests ending before `start` or starting after `end` are left out.
        public var start: Int64?
        public var end: Int64?
        /// Hashes computed before, by path, inode, size and modification time.
        public var state: ValidationState

        public init(directory: String, trustedKeys: [String: DigestPublicKey], start: Int64?, end: Int64?, state: ValidationState) {
            self.directory = directory
            self.trustedKeys = trustedKeys
            self.start = start
            self.end = end
            self.state = state
        }
    }

    public struct Report {
        public var digests = 0
        public var validDigests = 0
        public var logFiles = 0
        public var validLogFiles = 0
        /// Log files newer than the newest digest: not covered yet, not a failure.
        public var notYetDigested = 0
        /// Log files whose hash came from the state rather than from reading them.
        public var remembered = 0
        public var problems: [String] = []
        public var firstDigestStart: Int64?
        public var lastDigestEnd: Int64?
        public var valid: Bool { problems.isEmpty }
    }

    var options: Options

    public init(options: Options) {
        self.options = options
    }

    /// A digest as found in the directory.
    struct FoundDigest {
        var path: String
        var nameEnd: Int64
        var bytes: [UInt8]?
        var digest: DigestFile?
        var signature: String?
    }

    public mutating func validate() throws -> Report {
        var report = Report()
        let root = options.directory.hasSuffix("/") ? String(options.directory.dropLast()) : options.directory
        guard FileManager.default.fileExists(atPath: root + "/AWSLogs") else {
            throw ArchiveValidationError("\(root) holds no AWSLogs/ directory")
        }
        var digestPaths: [String] = []
        var logPaths: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root + "/AWSLogs")
        while let relative = enumerator?.nextObject() as? String {
            let path = "AWSLogs/" + relative
            guard path.hasSuffix(".json.gz") else { continue }
            if path.contains("/CloudTrail-Digest/") {
                digestPaths.append(path)
            } else if path.contains("/CloudTrail/") || path.contains("/CloudTrail-Insight/") {
                logPaths.append(path)
            }
        }
        // One chain per folder and trail: group, then order by the end time in the name.
        var chains: [String: [FoundDigest]] = [:]
        for path in digestPaths {
            guard let end = ArchiveLayout.digestEnd(ofKey: path) else {
                report.problems.append("digest \(path): the name does not end in _YYYYMMDDTHHMMSSZ.json.gz")
                continue
            }
            let name = (path as NSString).lastPathComponent
            let trail = name.split(separator: "_").dropLast(2).joined(separator: "_")
            let folder = (path as NSString).deletingLastPathComponent.split(separator: "/").dropLast(3).joined(separator: "/")
            chains[folder + "|" + trail, default: []].append(FoundDigest(path: path, nameEnd: end))
        }
        var listed: [String: (hash: String, digest: String)] = [:]
        var newestEnd: Int64 = .min
        var prefix: String?
        for chainKey in chains.keys.sorted() {
            let all = chains[chainKey]!.sorted { $0.nameEnd < $1.nameEnd }
            let byPath = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($0.element.path, $0.offset) })
            var previous: FoundDigest?
            for var found in all {
                // Before the range: not checked, but the first digest in range chains to the last of them.
                if let start = options.start, found.nameEnd < start { previous = found; continue }
                if let unread = previous, unread.bytes == nil, unread.digest == nil { previous = read(unread, root: root) }
                found = read(found, root: root)
                if let end = options.end, let digest = found.digest, digest.startTime > end { break }
                report.digests += 1
                defer { previous = found }
                guard let bytes = found.bytes, let digest = found.digest else {
                    report.problems.append("digest \(found.path): invalid format (\(found.signature ?? "cannot be read or is not gzip JSON"))")
                    found.digest = nil
                    continue
                }
                report.firstDigestStart = min(report.firstDigestStart ?? digest.startTime, digest.startTime)
                report.lastDigestEnd = max(report.lastDigestEnd ?? digest.endTime, digest.endTime)
                newestEnd = max(newestEnd, digest.endTime)
                var valid = true
                // Where the digest says it was written must be where it is.
                if !digest.key.hasSuffix(found.path) || (prefix != nil && String(digest.key.dropLast(found.path.count)) != prefix) {
                    report.problems.append("digest \(found.path): has been moved from its original location \(digest.key)")
                    valid = false
                } else if prefix == nil {
                    prefix = String(digest.key.dropLast(found.path.count))
                }
                let sha256 = Data(SHA256.hash(data: bytes)).hexString
                if let signature = found.signature {
                    if let key = options.trustedKeys[digest.publicKeyFingerprint] {
                        if !key.verify(signatureHex: signature, of: digest.stringToSign(digestSHA256: sha256)) {
                            report.problems.append("digest \(found.path): the signature does not verify (the digest was changed after it was signed)")
                            valid = false
                        }
                    } else {
                        report.problems.append(
                            "digest \(found.path): signed with key \(digest.publicKeyFingerprint), which is not a trusted key")
                        valid = false
                    }
                } else {
                    report.problems.append("digest \(found.path): no signature (\(found.path).sig is missing)")
                    valid = false
                }
                // The chain: this digest must name the one before it, by key, hash and signature, with no gap.
                let keyPrefix = prefix ?? ""
                if let link = digest.previous {
                    let linkPath = String(link.key.dropFirst(keyPrefix.count))
                    if let previous, previous.path == linkPath, let previousBytes = previous.bytes {
                        if Data(SHA256.hash(data: previousBytes)).hexString != link.sha256 {
                            report.problems.append("digest \(previous.path): changed after \(found.path) chained to it (its SHA-256 differs)")
                            valid = false
                        }
                        if let previousSignature = previous.signature, previousSignature != link.signature {
                            report.problems.append("digest \(previous.path): its signature is not the one \(found.path) chained to")
                            valid = false
                        }
                        if let previousDigest = previous.digest, previousDigest.endTime != digest.startTime {
                            report.problems.append(
                                "gap: no digest covers \(TrailTime.formatEpochSeconds(previousDigest.endTime)) to \(TrailTime.formatEpochSeconds(digest.startTime))"
                            )
                            valid = false
                        }
                    } else if byPath[linkPath] != nil {
                        report.problems.append(
                            "digest \(found.path): out of order: it chains to \(linkPath), but the digest before it is \(previous?.path ?? "none")")
                        valid = false
                    } else if previous != nil || options.start == nil {
                        report.problems.append("digest \(linkPath): not found (\(found.path) names it as the digest before it)")
                        valid = false
                    }
                } else if let previous {
                    report.problems.append(
                        "digest \(found.path): starts a new chain; the digests up to \(previous.path) are not linked to it")
                    valid = false
                }
                if valid { report.validDigests += 1 }
                for file in digest.logFiles {
                    report.logFiles += 1
                    let path = String(file.key.dropFirst(keyPrefix.count))
                    // A digest is input too: a key outside the archive is named, never opened.
                    guard file.key.hasPrefix(keyPrefix), ArchiveLayout.isContained(path) else {
                        report.problems.append("digest \(found.path): lists \"\(file.key)\", which is not a key of this archive")
                        continue
                    }
                    listed[path] = (file.sha256, found.path)
                }
            }
        }
        // Every listed log file, then every log file no digest lists.
        let expected = Dictionary(listed.map { ($0.value.hash, $0.key) }, uniquingKeysWith: { first, _ in first })
        var hashes: [String: String] = [:]
        for path in listed.keys.sorted() {
            let (want, digestPath) = listed[path]!
            guard FileManager.default.fileExists(atPath: root + "/" + path) else {
                let name = (path as NSString).lastPathComponent
                if let elsewhere = logPaths.first(where: { $0 != path && ($0 as NSString).lastPathComponent == name }) {
                    report.problems.append("log file \(path): moved to \(elsewhere) (listed in \(digestPath))")
                } else {
                    report.problems.append("log file \(path): not found (listed in \(digestPath))")
                }
                continue
            }
            let actual: String
            do {
                actual = try hash(root: root, path: path, report: &report)
            } catch {
                report.problems.append("log file \(path): invalid format (\(error))")
                continue
            }
            hashes[path] = actual
            if actual == want {
                report.validLogFiles += 1
            } else if let other = expected[actual], other != path {
                report.problems.append("log file \(path): has the content listed for \(other) (files swapped or reordered)")
            } else {
                report.problems.append("log file \(path): changed (its SHA-256 is not the one in \(digestPath))")
            }
        }
        for path in logPaths.sorted() where listed[path] == nil {
            let name = (path as NSString).lastPathComponent
            if listed.keys.contains(where: { ($0 as NSString).lastPathComponent == name }) { continue }  // reported as moved
            guard let delivered = Self.deliveryMinute(ofLogFile: name) else {
                report.problems.append("log file \(path): not listed in any digest, and not named as CloudTrail names log files")
                continue
            }
            if let start = options.start, delivered + 60 < start { continue }
            if let end = options.end, delivered > end { continue }
            // Delivered in a minute that ended before the newest digest: a digest must list it.
            if delivered + 60 <= newestEnd {
                report.problems.append("log file \(path): not listed in any digest (added after the fact)")
            } else {
                report.notYetDigested += 1
            }
        }
        return report
    }

    /// Reads a digest's bytes, JSON and signature; problems are left for the caller to name.
    func read(_ found: FoundDigest, root: String) -> FoundDigest {
        var found = found
        guard let compressed = FileManager.default.contents(atPath: root + "/" + found.path) else { return found }
        do {
            let bytes = try Self.gunzip(compressed)
            found.bytes = bytes
            found.digest = try DigestFile(json: bytes)
        } catch {
            found.digest = nil
            found.bytes = nil
            return found
        }
        if let text = try? String(contentsOfFile: root + "/" + found.path + ".sig", encoding: .utf8) {
            found.signature = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return found
    }

    /// SHA-256 of a log file's uncompressed bytes, from the state when the file is unchanged.
    mutating func hash(root: String, path: String, report: inout Report) throws -> String {
        let identity = ValidationState.identity(of: root + "/" + path)
        if let identity, let known = options.state.hash(path: path, identity: identity) {
            report.remembered += 1
            return known
        }
        guard let compressed = FileManager.default.contents(atPath: root + "/" + path) else {
            throw ArchiveValidationError("cannot be read")
        }
        let value = try Self.gunzippedSHA256(compressed)
        if let identity { options.state.remember(path: path, identity: identity, hash: value) }
        return value
    }

    public var state: ValidationState { options.state }

    static func gunzip(_ data: Data) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: data)
        do {
            let output = try buffer.decompress(with: .gzip(), maxSize: 1 << 30)
            return Array(output.readableBytesView)
        } catch {
            throw ArchiveValidationError("not gzip: \(error)")
        }
    }

    /// SHA-256 of the uncompressed bytes, inflated through a 256 KiB window: no copy of the
    /// whole file is made, so a large log file costs no more memory than a small one.
    static func gunzippedSHA256(_ data: Data) throws -> String {
        var input = ByteBuffer(bytes: data)
        let decompressor = CompressionAlgorithm.gzip().decompressor
        decompressor.window = ByteBufferAllocator().buffer(capacity: 256 * 1024)
        var hasher = SHA256()
        do {
            try decompressor.startStream()
            try input.decompressStream(with: decompressor) { chunk in
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
            try decompressor.finishStream()
        } catch {
            throw ArchiveValidationError("not gzip: \(error)")
        }
        return Data(hasher.finalize()).hexString
    }

    /// The delivery minute a log file's name carries (`…_YYYYMMDDTHHmmZ_<unique>.json.gz`).
    static func deliveryMinute(ofLogFile name: String) -> Int64? {
        let parts = name.dropLast(".json.gz".count).split(separator: "_")
        guard parts.count >= 4, let stamp = parts.dropLast().last, stamp.count == 14 else { return nil }
        return ArchiveLayout.parseCompact(stamp.dropLast() + "00Z")
    }
}

/// A validation that could not run at all.
public struct ArchiveValidationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
