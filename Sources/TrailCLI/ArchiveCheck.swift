// SPDX-License-Identifier: Apache-2.0

import CurlTransport
import Foundation
import TrailCore

/// `hosttrail validate`, whole: the trusted keys (files, or the collector's `ListPublicKeys`,
/// never the archive's own), the archive (a directory, or a fresh copy of a bucket's), the check
/// (``ArchiveValidator``) and its report. The executable only parses the flags.
public struct ArchiveCheck {
    /// A bucket to copy and check instead of a directory.
    public struct Bucket: Sendable {
        public var endpoint: String
        public var name: String
        public var prefix: String
        public var region: String?
        /// `ACCESS_KEY_ID SECRET`; else `$AWS_ACCESS_KEY_ID`/`$AWS_SECRET_ACCESS_KEY`.
        public var credentialsFile: String?
        public var caFile: String?
        /// Where the copy goes (default `<cache>/hosttrail/s3/<bucket>`).
        public var cache: String?

        public init(
            endpoint: String, name: String, prefix: String, region: String?, credentialsFile: String?, caFile: String?, cache: String?
        ) {
            (self.endpoint, self.name, self.prefix, self.region) = (endpoint, name, prefix, region)
            (self.credentialsFile, self.caFile, self.cache) = (credentialsFile, caFile, cache)
        }
    }

    /// A collector whose `ListPublicKeys` supplies trusted keys: with a client certificate, or
    /// SigV4 credentials from the environment.
    public struct Collector: Sendable {
        public var url: String
        public var tls: HTTPSClient.Configuration

        public init(url: String, tls: HTTPSClient.Configuration) {
            (self.url, self.tls) = (url, tls)
        }
    }

    public var directory: String?
    public var bucket: Bucket?
    public var publicKeyFiles: [String]
    public var collector: Collector?
    public var startTime: String?
    public var endTime: String?
    /// Where `quick` remembers the hashes it read (default `<cache>/hosttrail/validate-state.json`).
    public var stateFile: String?
    public var quick: Bool

    public init(
        directory: String?, bucket: Bucket?, publicKeyFiles: [String], collector: Collector?, startTime: String?, endTime: String?,
        stateFile: String?, quick: Bool
    ) {
        (self.directory, self.bucket, self.publicKeyFiles, self.collector) = (directory, bucket, publicKeyFiles, collector)
        (self.startTime, self.endTime, self.stateFile, self.quick) = (startTime, endTime, stateFile, quick)
    }

    /// What became of a run: every digest and log file valid (exit 0), something invalid (1), or
    /// the archive could not be read at all (2).
    public enum Outcome: Int32, Sendable {
        case valid = 0
        case invalid = 1
        case unreadable = 2
    }

    /// Runs the check, printing the report line by line to `output` and what stops it to `errors`.
    ///
    /// - Throws: ``UsageError`` when the options cannot work (no trusted key, unreadable files).
    public func run(now: Date, environment: [String: String], output: (String) -> Void, errors: (String) -> Void) throws -> Outcome {
        func time(_ text: String?, _ flag: String) throws -> Int64? {
            guard let text else { return nil }
            guard let date = TrailTime.parse(text, now: now) else { throw UsageError("\(flag) \(text) is not a time") }
            return Int64(date.timeIntervalSince1970)
        }
        let start = try time(startTime, "--start-time")
        let end = try time(endTime, "--end-time")
        if let start, let end, start > end { throw UsageError("--start-time is after --end-time") }
        let trusted = try trustedKeys(now: now)
        let cacheHome = environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? "/root") + "/.cache")
        let statePath = stateFile ?? cacheHome + "/hosttrail/validate-state.json"
        let root: String
        do {
            root = try archiveDirectory(cacheHome: cacheHome, output: output)
        } catch let error as ArchiveValidationError {
            errors("error: \(error)")
            return .unreadable
        }
        var validator = ArchiveValidator(
            options: .init(
                directory: root, trustedKeys: trusted, start: start, end: end ?? Int64(now.timeIntervalSince1970),
                state: quick ? ValidationState.load(from: statePath) : ValidationState()))
        let report: ArchiveValidator.Report
        do {
            report = try validator.validate()
        } catch {
            errors("error: \(error)")
            return .unreadable
        }
        if quick { try? validator.state.save(to: statePath) }
        let from = report.firstDigestStart.map(TrailTime.formatEpochSeconds) ?? "-"
        let to = report.lastDigestEnd.map(TrailTime.formatEpochSeconds) ?? "-"
        output("Results found for \(from) to \(to):")
        output("\(report.validDigests)/\(report.digests) digest files valid")
        output("\(report.validLogFiles)/\(report.logFiles) log files valid")
        if report.remembered > 0 {
            output("\(report.remembered) of them trusted, not read: path, inode, size and modification time unchanged since checked before (--quick)")
        }
        if report.notYetDigested > 0 { output("\(report.notYetDigested) log files newer than the newest digest (not covered yet)") }
        for problem in report.problems { output("INVALID: \(problem)") }
        if report.digests == 0 {
            output("INVALID: no digest files found\(start != nil ? " in the time range" : "")")
            return .invalid
        }
        return report.valid ? .valid : .invalid
    }

    /// The keys from `--public-key` files and the collector's `ListPublicKeys`, by fingerprint.
    func trustedKeys(now: Date) throws -> [String: DigestPublicKey] {
        var trusted: [String: DigestPublicKey] = [:]
        for path in publicKeyFiles {
            do {
                let key = try DigestPublicKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8))
                trusted[key.fingerprint] = key
            } catch {
                throw UsageError("--public-key \(path) is not an RSA public key in PEM: \(error)")
            }
        }
        if let collector {
            // A client certificate, when given, authorises the call; else SigV4 from the environment.
            let credentials: LookupClient.Credentials?
            do {
                credentials = collector.tls.certificateFile == nil ? try LookupClient.Credentials.resolve() : nil
            } catch {
                throw UsageError("\(error)")
            }
            let client = try LookupClient(collectorURL: collector.url, tls: collector.tls, credentials: credentials)
            let keys = try client.publicKeys(start: Date(timeIntervalSince1970: 0), end: now.addingTimeInterval(7200))
            trusted.merge(keys) { first, _ in first }
        }
        guard !trusted.isEmpty else {
            throw UsageError("no trusted public key: give --public-key FILE or --collector URL (the archive's own keys are not trusted)")
        }
        return trusted
    }

    /// The directory to check: `directory`, or a fresh copy of the bucket's archive.
    func archiveDirectory(cacheHome: String, output: (String) -> Void) throws -> String {
        if let directory { return directory }
        guard let bucket else { throw UsageError("give either --dir DIR or --s3-endpoint URL --s3-bucket NAME") }
        var fileKey: AccessKey?
        if let file = bucket.credentialsFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw UsageError("--s3-credentials-file \(file) cannot be read")
            }
            do {
                fileKey = try AccessKeys.parseCredentialsFile(text)
            } catch {
                throw UsageError("--s3-credentials-file \(file) \(error)")
            }
        }
        let credentials: LookupClient.Credentials?
        do {
            credentials = try LookupClient.Credentials.resolve(accessKeyID: fileKey?.id, secretAccessKey: fileKey?.secret, region: bucket.region)
        } catch {
            throw UsageError("\(error)")
        }
        guard let credentials else {
            throw UsageError("the bucket needs credentials: --s3-credentials-file or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        }
        let mirror = try BucketMirror(
            endpoint: bucket.endpoint, bucket: bucket.name, prefix: bucket.prefix, credentials: credentials, caFile: bucket.caFile)
        let copy = try mirror.mirror(into: bucket.cache ?? cacheHome + "/hosttrail/s3/" + bucket.name)
        output("Copied \(copy.fetched) of \(copy.listed) objects from s3://\(bucket.name)/\(bucket.prefix) (the rest unchanged since the last run)")
        return copy.root
    }
}
