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

    let endpoint: String
    let bucket: String
    let prefix: String
    let credentials: Credentials
    let client: HTTPSClient

    public init(endpoint: String, bucket: String, prefix: String, credentials: Credentials, caFile: String?) throws {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.credentials = credentials
        client = try HTTPSClient(configuration: HTTPSClient.Configuration(caFile: caFile, connectTimeout: .seconds(10), totalTimeout: .seconds(300)))
    }

    /// Mirrors into `directory`; returns the directory that holds `AWSLogs/` and how many objects were fetched.
    public func mirror(into directory: String) throws -> (root: String, fetched: Int, listed: Int) {
        let keyPrefix = (prefix.isEmpty ? "" : prefix + "/") + "AWSLogs/"
        let etagsPath = directory + "/.etags.json"
        var etags = (FileManager.default.contents(atPath: etagsPath)).flatMap { try? JSONDecoder().decode([String: String].self, from: $0) } ?? [:]
        var fetched = 0
        let objects = try list(prefix: keyPrefix)
        for object in objects where object.key.hasSuffix(".json.gz") {
            // The listing is the bucket's word: a key that would land outside the copy is refused.
            guard object.key.hasPrefix(keyPrefix), ArchiveLayout.isContained(object.key) else {
                throw ArchiveValidationError("the bucket listed \"\(object.key)\", which is not a key under \(keyPrefix); refusing to copy it")
            }
            let path = directory + "/" + object.key
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            if etags[object.key] == object.etag && size == object.size {
                if object.key.contains("/CloudTrail-Digest/") {
                    let head = try request(method: "HEAD", path: "/\(bucket)/\(object.key)")
                    guard head.status == 200 else {
                        throw ArchiveValidationError("HEAD \(object.key) from the bucket answered \(head.status)")
                    }
                    try writeSignature(head.headers["x-amz-meta-signature"], for: path)
                }
                continue
            }
            let response = try get(path: "/\(bucket)/\(object.key)", query: "")
            guard response.status == 200 else {
                throw ArchiveValidationError("GET \(object.key) from the bucket answered \(response.status): \(response.bodyText.prefix(200))")
            }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try response.body.write(to: URL(fileURLWithPath: path))
            if object.key.contains("/CloudTrail-Digest/") { try writeSignature(response.headers["x-amz-meta-signature"], for: path) }
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

    struct Object {
        var key: String
        var etag: String
        var size: Int
    }

    /// Every object under `prefix`, ListObjects (v1) page after page.
    func list(prefix: String) throws -> [Object] {
        var objects: [Object] = []
        var marker: String?
        while true {
            var query = "prefix=\(Self.encode(prefix))"
            if let marker { query = "marker=\(Self.encode(marker))&" + query }
            let response = try get(path: "/\(bucket)", query: query)
            guard response.status == 200 else {
                throw ArchiveValidationError("listing bucket \(bucket) answered \(response.status): \(response.bodyText.prefix(300))")
            }
            let text = response.bodyText
            let contents = Self.elements("Contents", in: text)
            for item in contents {
                guard let key = Self.elements("Key", in: item).first else { continue }
                objects.append(
                    Object(
                        key: Self.unescape(key), etag: Self.unescape(Self.elements("ETag", in: item).first ?? ""),
                        size: Int(Self.elements("Size", in: item).first ?? "") ?? -1))
            }
            guard Self.elements("IsTruncated", in: text).first == "true", let last = objects.last?.key else { return objects }
            marker = Self.elements("NextMarker", in: text).first.map(Self.unescape) ?? last
        }
    }

    func get(path: String, query: String) throws -> HTTPSClient.Response {
        try request(method: "GET", path: path, query: query)
    }

    /// A SigV4-signed (path-style) request without a body.
    func request(method: String, path: String, query: String = "") throws -> HTTPSClient.Response {
        guard let url = URLComponents(string: endpoint), let host = url.host else {
            throw ArchiveValidationError("\(endpoint) is not a URL")
        }
        var headers: [(name: String, value: String)] = [
            ("Host", url.port.map { "\(host):\($0)" } ?? host), ("x-amz-content-sha256", SigV4.hexSHA256(Data())),
        ]
        headers += SigV4.sign(
            method: method, path: path, query: query, headers: headers, body: Data(), accessKeyID: credentials.accessKeyID,
            secret: credentials.secretAccessKey, region: credentials.region, service: "s3", now: Date())
        do {
            return try client.send(
                method: method, url: endpoint + path + (query.isEmpty ? "" : "?" + query), headers: headers.map { "\($0.name): \($0.value)" },
                body: Data())
        } catch let error as CurlError {
            throw ArchiveValidationError("cannot reach the bucket at \(endpoint): \(error)")
        }
    }

    /// RFC 3986 unreserved characters kept, everything else percent-encoded (as SigV4 wants).
    static func encode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || "-_.~".contains(character)) {
                output.append(character)
            } else {
                output += String(format: "%%%02X", byte)
            }
        }
        return output
    }

    /// The texts of every `<name>…</name>` in `xml`, in order.
    static func elements(_ name: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest[open.upperBound...].range(of: "</\(name)>") {
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&#34;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
