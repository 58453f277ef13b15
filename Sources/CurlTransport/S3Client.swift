// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

/// An S3-compatible bucket over one libcurl handle: path-style, SigV4-signed requests. The
/// collector's archive upload and the CLI's bucket mirror both use it.
public struct S3Client: Sendable {
    /// A request the bucket refused, or that got no answer.
    public struct Failure: Error, CustomStringConvertible {
        public var request: String
        /// The HTTP status; `nil` when no answer came.
        public var status: Int?
        public var detail: String

        public var description: String {
            status.map { "\(request) answered \($0): \(detail)" } ?? "\(request): no answer: \(detail)"
        }
    }

    /// One object of a listing.
    public struct Object: Sendable, Hashable {
        public var key: String
        public var etag: String
        public var size: Int
    }

    public let endpoint: String
    public let bucket: String
    let region: String
    let accessKeyID: String
    let secret: String
    let client: HTTPSClient

    /// - Parameter endpoint: `https://host[:port]` (a trailing `/` is dropped).
    /// - Throws: ``Failure`` when `endpoint` is not a URL; ``CurlError`` when libcurl cannot start.
    public init(
        endpoint: String, bucket: String, region: String, accessKeyID: String, secret: String, caFile: String?, totalTimeout: Duration
    ) throws {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        guard URLComponents(string: self.endpoint)?.host != nil else {
            throw Failure(request: "S3", status: nil, detail: "\(endpoint) is not a URL")
        }
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secret = secret
        client = try HTTPSClient(configuration: HTTPSClient.Configuration(caFile: caFile, connectTimeout: .seconds(10), totalTimeout: totalTimeout))
    }

    /// Stores `body` under `key`, with `x-amz-meta-<name>` for each of `metadata`.
    public func put(key: String, body: Data, contentType: String, metadata: [(name: String, value: String)] = []) throws(Failure) {
        let headers = [("Content-Type", contentType)] + metadata.map { ("x-amz-meta-" + $0.name, $0.value) }
        _ = try send("PUT", key: key, headers: headers, body: body, expecting: 200..<300)
    }

    /// The object under `key`, and its metadata.
    public func get(key: String) throws(Failure) -> (body: Data, metadata: [String: String]) {
        let response = try send("GET", key: key, expecting: 200..<201)
        return (response.body, Self.metadata(response))
    }

    /// The `x-amz-meta-…` metadata of the object under `key`, by name (lower case, prefix off).
    public func metadata(key: String) throws(Failure) -> [String: String] {
        Self.metadata(try send("HEAD", key: key, expecting: 200..<201))
    }

    static func metadata(_ response: HTTPSClient.Response) -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") { metadata[String(name.dropFirst("x-amz-meta-".count))] = value }
        return metadata
    }

    /// Every object whose key starts with `prefix`, ListObjects (v1) page after page.
    public func list(prefix: String) throws(Failure) -> [Object] {
        var objects: [Object] = []
        var marker: String?
        while true {
            var query = "prefix=\(Self.encode(prefix))"
            if let marker { query = "marker=\(Self.encode(marker))&" + query }
            let text = try send("GET", key: nil, query: query, expecting: 200..<201).bodyText
            for item in Self.elements("Contents", in: text) {
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

    /// One signed request to the bucket (`key` nil) or an object in it.
    func send(
        _ method: String, key: String?, query: String = "", headers extra: [(String, String)] = [], body: Data = Data(), expecting: Range<Int>
    ) throws(Failure) -> HTTPSClient.Response {
        let path = "/\(bucket)" + (key.map { "/" + $0 } ?? "")
        let name = "\(method) \(path)"
        let components = URLComponents(string: endpoint)
        let host = components?.host ?? ""
        var headers: [(name: String, value: String)] = [
            ("Host", components?.port.map { "\(host):\($0)" } ?? host), ("x-amz-content-sha256", SigV4.hexSHA256(body)),
        ]
        headers += extra.map { (name: $0.0, value: $0.1) }
        headers += SigV4.sign(
            method: method, path: path, query: query, headers: headers, body: body, accessKeyID: accessKeyID, secret: secret, region: region,
            service: "s3", now: Date())
        let response: HTTPSClient.Response
        do {
            response = try client.send(
                method: method, url: endpoint + path + (query.isEmpty ? "" : "?" + query), headers: headers.map { "\($0.name): \($0.value)" },
                body: body)
        } catch {
            throw Failure(request: name, status: nil, detail: "\(error)")
        }
        guard expecting.contains(response.status) else {
            throw Failure(request: name, status: response.status, detail: String(response.bodyText.prefix(300)))
        }
        return response
    }

    /// RFC 3986 unreserved characters kept, everything else percent-encoded (as SigV4 wants).
    static func encode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if character.isASCII && (character.isLetter || character.isNumber || "-_.~".contains(character)) {
                output.append(character)
            } else {
                let digits = Array("0123456789ABCDEF")
                output += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
            }
        }
        return output
    }

    /// The texts of every `<name>…</name>` in `xml`, in order.
    static func elements(_ name: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.firstRange(of: "<\(name)>"), let close = rest[open.upperBound...].firstRange(of: "</\(name)>") {
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func unescape(_ text: String) -> String {
        // `&amp;` last: `&amp;lt;` is the text `&lt;`.
        text.replacing("&quot;", with: "\"").replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&apos;", with: "'")
            .replacing("&#34;", with: "\"").replacing("&amp;", with: "&")
    }
}
