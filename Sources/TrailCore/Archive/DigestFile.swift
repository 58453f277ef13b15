// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials

/// A CloudTrail digest file: one period's log files with their SHA-256, chained to the previous
/// digest, as `aws cloudtrail validate-logs` reads it.
public struct DigestFile: Sendable, Hashable {
    /// One log file the digest vouches for.
    public struct LogFile: Sendable, Hashable {
        public var bucket: String
        public var key: String
        /// Hex SHA-256 of the uncompressed bytes.
        public var sha256: String
        /// Epoch seconds.
        public var oldestEventTime: Int64
        public var newestEventTime: Int64

        public init(bucket: String, key: String, sha256: String, oldestEventTime: Int64, newestEventTime: Int64) {
            self.bucket = bucket
            self.key = key
            self.sha256 = sha256
            self.oldestEventTime = oldestEventTime
            self.newestEventTime = newestEventTime
        }
    }

    /// The digest before this one; `nil` for the first of a chain.
    public struct Previous: Sendable, Hashable {
        public var bucket: String
        public var key: String
        /// Hex SHA-256 of the previous digest's uncompressed bytes.
        public var sha256: String
        /// Hex signature of the previous digest.
        public var signature: String

        public init(bucket: String, key: String, sha256: String, signature: String) {
            self.bucket = bucket
            self.key = key
            self.sha256 = sha256
            self.signature = signature
        }
    }

    public static let signatureAlgorithm = "SHA256withRSA"

    public var accountID: String
    /// Epoch seconds.
    public var startTime: Int64
    public var endTime: Int64
    public var bucket: String
    public var key: String
    public var publicKeyFingerprint: String
    public var previous: Previous?
    public var logFiles: [LogFile]

    public init(
        accountID: String, startTime: Int64, endTime: Int64, bucket: String, key: String, publicKeyFingerprint: String, previous: Previous?,
        logFiles: [LogFile]
    ) {
        self.accountID = accountID
        self.startTime = startTime
        self.endTime = endTime
        self.bucket = bucket
        self.key = key
        self.publicKeyFingerprint = publicKeyFingerprint
        self.previous = previous
        self.logFiles = logFiles
    }

    /// The digest's JSON (sorted keys, explicit `null`s where CloudTrail writes them).
    public func json() -> [UInt8] {
        func time(_ seconds: Int64?) -> JSONValue { seconds.map { .string(TrailTime.formatEpochSeconds($0)) } ?? .null }
        let files: [JSONValue] = logFiles.map { file in
            .object([
                "s3Bucket": .string(file.bucket), "s3Object": .string(file.key), "hashValue": .string(file.sha256),
                "hashAlgorithm": "SHA-256", "oldestEventTime": time(file.oldestEventTime), "newestEventTime": time(file.newestEventTime),
            ])
        }
        let members: [String: JSONValue] = [
            "awsAccountId": .string(accountID),
            "digestStartTime": time(startTime),
            "digestEndTime": time(endTime),
            "digestS3Bucket": .string(bucket),
            "digestS3Object": .string(key),
            "digestPublicKeyFingerprint": .string(publicKeyFingerprint),
            "digestSignatureAlgorithm": .string(Self.signatureAlgorithm),
            "oldestEventTime": time(logFiles.map(\.oldestEventTime).min()),
            "newestEventTime": time(logFiles.map(\.newestEventTime).max()),
            "previousDigestS3Bucket": previous.map { .string($0.bucket) } ?? .null,
            "previousDigestS3Object": previous.map { .string($0.key) } ?? .null,
            "previousDigestHashValue": previous.map { .string($0.sha256) } ?? .null,
            "previousDigestHashAlgorithm": previous == nil ? .null : "SHA-256",
            "previousDigestSignature": previous.map { .string($0.signature) } ?? .null,
            "logFiles": .array(files),
        ]
        return JSONValue.object(members).serialized()
    }

    /// Reads a digest's JSON.
    ///
    /// - Throws: ``DigestFormatError`` naming the first member that is missing or malformed.
    public init(json bytes: some Collection<UInt8>) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw DigestFormatError("not JSON: \(error)")
        }
        guard let members = value.objectValue else { throw DigestFormatError("not a JSON object") }
        func string(_ name: String, in object: [String: JSONValue]) throws -> String {
            guard let text = object[name]?.stringValue else { throw DigestFormatError("\(name) is missing or not a string") }
            return text
        }
        func optionalString(_ name: String) throws -> String? {
            switch members[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw DigestFormatError("\(name) is not a string")
            }
        }
        func time(_ name: String, in object: [String: JSONValue]) throws -> Int64 {
            let text = try string(name, in: object)
            guard let date = TrailTime.parseISO8601(text) else { throw DigestFormatError("\(name) \"\(text)\" is not a time") }
            return Int64(date.timeIntervalSince1970)
        }
        accountID = try string("awsAccountId", in: members)
        startTime = try time("digestStartTime", in: members)
        endTime = try time("digestEndTime", in: members)
        bucket = try string("digestS3Bucket", in: members)
        key = try string("digestS3Object", in: members)
        publicKeyFingerprint = try string("digestPublicKeyFingerprint", in: members)
        if let previousKey = try optionalString("previousDigestS3Object") {
            guard let previousBucket = try optionalString("previousDigestS3Bucket"), let hash = try optionalString("previousDigestHashValue"),
                let signature = try optionalString("previousDigestSignature")
            else { throw DigestFormatError("previousDigestS3Object is set but the other previousDigest members are not") }
            previous = Previous(bucket: previousBucket, key: previousKey, sha256: hash, signature: signature)
        } else {
            previous = nil
        }
        guard let files = members["logFiles"]?.arrayValue else { throw DigestFormatError("logFiles is missing or not an array") }
        logFiles = try files.enumerated().map { index, file in
            guard let object = file.objectValue else { throw DigestFormatError("logFiles[\(index)] is not an object") }
            return LogFile(
                bucket: try string("s3Bucket", in: object), key: try string("s3Object", in: object), sha256: try string("hashValue", in: object),
                oldestEventTime: try time("oldestEventTime", in: object), newestEventTime: try time("newestEventTime", in: object))
        }
    }

    /// CloudTrail's string to sign: end time, `bucket/key`, the SHA-256 of the digest's
    /// uncompressed bytes, and the previous signature (`null` for the first digest).
    public static func stringToSign(endTime: String, bucket: String, key: String, digestSHA256: String, previousSignature: String?) -> String {
        "\(endTime)\n\(bucket)/\(key)\n\(digestSHA256)\n\(previousSignature ?? "null")"
    }

    /// The string to sign for this digest, whose uncompressed bytes hash to `digestSHA256`.
    public func stringToSign(digestSHA256: String) -> String {
        Self.stringToSign(
            endTime: TrailTime.formatEpochSeconds(endTime), bucket: bucket, key: key, digestSHA256: digestSHA256,
            previousSignature: previous?.signature)
    }
}

/// A digest that cannot be read.
public struct DigestFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
