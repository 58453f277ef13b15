// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// Where CloudTrail puts log files and digests in a bucket, for one trail.
///
/// Log files: `[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`
/// (Insights: `CloudTrail-Insight` for both `CloudTrail`s);
/// digests: `[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>.json.gz`
/// (`aws cloudtrail validate-logs` reads the digest's time from the last 24 to 8 characters of the key).
public struct ArchiveLayout: Sendable, Hashable {
    public var accountID: String
    public var region: String
    public var trailName: String
    /// The bucket the digests name, also when the copy is a directory (same bytes in both).
    public var bucket: String
    /// Key prefix without slashes at either end; empty for none.
    public var prefix: String

    public init(accountID: String, region: String, trailName: String, bucket: String, prefix: String) {
        self.accountID = accountID
        self.region = region
        self.trailName = trailName
        self.bucket = bucket
        self.prefix = prefix.trimming(charactersIn: "/")
    }

    var root: String { (prefix.isEmpty ? "" : prefix + "/") + "AWSLogs/\(accountID)/" }

    /// What a log file holds: events, or Insights (CloudTrail delivers them apart, under
    /// `CloudTrail-Insight/`).
    public enum LogKind: String, Sendable, CaseIterable {
        case events = "CloudTrail"
        case insights = "CloudTrail-Insight"
    }

    /// The key of a log file of `kind` delivered at `delivered` (minute precision) with its unique part.
    public func logFileKey(delivered: Int64, unique: String, kind: LogKind = .events) -> String {
        let stamp = Self.compact(delivered)
        let folder = kind.rawValue
        return root
            + "\(folder)/\(region)/\(Self.dateDirectories(delivered))/\(accountID)_\(folder)_\(region)_\(stamp.prefix(13))Z_\(unique).json.gz"
    }

    /// The key of the digest whose period ends at `end` (epoch seconds).
    public func digestKey(end: Int64) -> String {
        root
            + "CloudTrail-Digest/\(region)/\(Self.dateDirectories(end))/\(accountID)_CloudTrail-Digest_\(region)_\(trailName)_\(region)_\(Self.compact(end)).json.gz"
    }

    /// The folder under which every digest of this trail's region lies.
    public var digestFolder: String { root + "CloudTrail-Digest/\(region)/" }
    /// The folder under which every log file of this trail's region lies.
    public var logFolder: String { root + "CloudTrail/\(region)/" }

    /// `YYYY/MM/DD` of epoch seconds, UTC.
    static func dateDirectories(_ seconds: Int64) -> String {
        let text = TrailTime.formatEpochSeconds(seconds)
        return "\(text.prefix(4))/\(text.dropFirst(5).prefix(2))/\(text.dropFirst(8).prefix(2))"
    }

    /// `YYYYMMDDTHHMMSSZ` of epoch seconds, UTC.
    public static func compact(_ seconds: Int64) -> String {
        TrailTime.formatEpochSeconds(seconds).filter { $0 != "-" && $0 != ":" }
    }

    /// Epoch seconds of a `YYYYMMDDTHHMMSSZ` stamp.
    public static func parseCompact(_ text: Substring) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        let iso =
            "\(text.prefix(4))-\(text.dropFirst(4).prefix(2))-\(text.dropFirst(6).prefix(2))T\(text.dropFirst(9).prefix(2)):\(text.dropFirst(11).prefix(2)):\(text.dropFirst(13).prefix(2))Z"
        return TrailTime.parseISO8601(iso).map { Int64($0.timeIntervalSince1970) }
    }

    /// The end time a digest key names (its last `_YYYYMMDDTHHMMSSZ.json.gz`), as validate-logs reads it.
    public static func digestEnd(ofKey key: String) -> Int64? {
        guard key.hasSuffix(".json.gz"), key.utf8.count >= 24 else { return nil }
        return parseCompact(key.dropLast(8).suffix(16))
    }

    /// Whether `key` names a file under a directory when appended to it: relative, and no `.`,
    /// `..` or empty segment. Keys come from digests and bucket listings, which are untrusted input.
    public static func isContained(_ key: some StringProtocol) -> Bool {
        guard !key.isEmpty, !key.hasPrefix("/") else { return false }
        return key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { $0 != "" && $0 != "." && $0 != ".." }
    }

    /// Sixteen characters with no meaning, as CloudTrail's log file names have.
    public static func uniqueString<Generator: RandomNumberGenerator>(using generator: inout Generator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
