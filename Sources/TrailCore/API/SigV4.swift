// SPDX-License-Identifier: Apache-2.0

import Crypto
import FoundationEssentials

/// AWS Signature Version 4 for the CloudTrail API: the collector verifies what the AWS CLI, boto3
/// and the other SDKs sign, and `hosttrail lookup` signs the same way.
///
/// Pure: the clock is passed in. Only header-signed requests (`Authorization: AWS4-HMAC-SHA256 …`)
/// are taken; presigned query strings are not (no CloudTrail client sends them).
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The most a request's `X-Amz-Date` may differ from the server's clock.
    public static let allowedSkew: TimeInterval = 15 * 60

    /// The parts of an `Authorization` header.
    public struct Authorization: Sendable, Hashable {
        public var accessKeyID: String
        /// `yyyymmdd` of the credential scope.
        public var date: String
        public var region: String
        public var service: String
        /// Lower-case, in the order given (sorted, as every SDK sends them).
        public var signedHeaders: [String]
        public var signature: String

        public var scope: String { "\(date)/\(region)/\(service)/aws4_request" }

        /// Parses `AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/cloudtrail/aws4_request, SignedHeaders=a;b, Signature=hex`.
        public init(header: String) throws(SigV4Failure) {
            guard header.hasPrefix(SigV4.algorithm + " ") else {
                throw .incomplete("Authorization header requires the \(SigV4.algorithm) algorithm")
            }
            var parts: [String: String] = [:]
            for item in header.dropFirst(SigV4.algorithm.count + 1).split(separator: ",") {
                let pair = item.trimmingWhitespace()
                guard let equals = pair.firstIndex(of: "=") else { throw .incomplete("Authorization header part \"\(pair)\" is not NAME=VALUE") }
                parts[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            guard let credential = parts["Credential"], let signed = parts["SignedHeaders"], let signature = parts["Signature"] else {
                throw .incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
            }
            let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].count == 8, scope[1].allSatisfy(\.isNumber) else {
                throw .incomplete("Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, got \"\(credential)\"")
            }
            guard signature.count == 64, signature.allSatisfy(\.isHexDigit) else {
                throw .incomplete("Signature must be 64 hexadecimal digits")
            }
            let headers = signed.split(separator: ";").map { $0.lowercased() }
            guard !headers.isEmpty else { throw .incomplete("SignedHeaders is empty") }
            (accessKeyID, date, region, service) = (scope[0], scope[1], scope[2], scope[3])
            signedHeaders = headers
            self.signature = signature.lowercased()
        }
    }

    /// `%Y%m%dT%H%M%SZ` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let formatted = TrailTime.format(Date(timeIntervalSince1970: Double(seconds)))  // 2026-11-25T10:00:00Z
        return formatted.filter { $0 != "-" && $0 != ":" }
    }

    /// `20261125T100000Z`; `nil` for anything else (a header is client input: bytes, not characters).
    static func parseAmzDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            bytes.indices.allSatisfy({ $0 == 8 || $0 == 15 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) })
        else { return nil }
        let digits = { (range: Range<Int>) in String(decoding: bytes[range], as: UTF8.self) }
        return TrailTime.parseISO8601("\(digits(0..<4))-\(digits(4..<6))-\(digits(6..<8))T\(digits(9..<11)):\(digits(11..<13)):\(digits(13..<15))Z")
    }

    static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 percent-encoding as SigV4 wants it (unreserved `A-Za-z0-9-_.~` kept; `/` kept in paths).
    static func encode(_ text: Substring, keepSlash: Bool) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                output.append("/")
            default:
                output.unicodeScalars.append("%")
                output.unicodeScalars.append(Unicode.Scalar(upperHexDigits[Int(byte >> 4)]))
                output.unicodeScalars.append(Unicode.Scalar(upperHexDigits[Int(byte & 15)]))
            }
        }
        return output
    }

    /// A query component decoded: `+` is a space, `%XX` a byte; `nil` when a `%` is not followed by
    /// two hex digits or the bytes are not UTF-8.
    static func formDecoded(_ text: Substring) -> String? {
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            switch input[index] {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < input.count, let high = Data.hexDigitValue(input[index + 1]), let low = Data.hexDigitValue(input[index + 2])
                else { return nil }
                bytes.append(high << 4 | low)
                index += 3
            default:
                bytes.append(input[index])
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The canonical query string: `k=v` pairs encoded and sorted by key, then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in formDecoded(text) ?? String(text) }
            return (
                encode(Substring(decode(parts[0])), keepSlash: false), encode(Substring(parts.count > 1 ? decode(parts[1]) : ""), keepSlash: false)
            )
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// A path with `.`, `..` and empty segments removed, encoded (non-S3 services sign it so).
    static func canonicalPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/") {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        let normalized = "/" + segments.joined(separator: "/") + (path.hasSuffix("/") && !segments.isEmpty ? "/" : "")
        return encode(Substring(normalized), keepSlash: true)
    }

    /// The canonical request (AWS's "Create a canonical request").
    ///
    /// - Parameter headers: Every header of the request; those in `signedHeaders` are used, names
    ///   without case, repeated ones joined by `,`, runs of spaces in values folded to one.
    public static func canonicalRequest(
        method: String, path: String, query: String, headers: [(name: String, value: String)], signedHeaders: [String], payloadHash: String
    ) -> String {
        var lines = [method.uppercased(), canonicalPath(path), canonicalQuery(query)]
        for name in signedHeaders {
            let values = headers.filter { $0.name.lowercased() == name }.map { value in
                value.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            }
            lines.append("\(name):\(values.joined(separator: ","))")
        }
        lines.append("")
        lines.append(signedHeaders.joined(separator: ";"))
        lines.append(payloadHash)
        return lines.joined(separator: "\n")
    }

    public static func hexSHA256<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        Data(SHA256.hash(data: bytes)).hexString
    }

    /// The signature of `canonicalRequest` with `secret` for the scope of `authorization`'s parts.
    public static func signature(canonicalRequest: String, amzDate: String, secret: String, date: String, region: String, service: String) -> String {
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = [algorithm, amzDate, scope, hexSHA256(Data(canonicalRequest.utf8))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hexString
    }

    /// Checks a request's signature against `keys`; returns the key that signed it.
    ///
    /// - Parameter service: The signing name the scope must carry (`cloudtrail`); any region is taken.
    public static func verify(
        method: String, path: String, query: String, headers: [(name: String, value: String)], body: Data, keys: AccessKeys, service: String,
        now: Date
    ) throws(SigV4Failure) -> AccessKey {
        guard let header = headers.first(where: { $0.name.lowercased() == "authorization" })?.value else {
            throw SigV4Failure(type: "MissingAuthenticationTokenException", status: 403, message: "Missing Authentication Token")
        }
        let authorization = try Authorization(header: header)
        guard let key = keys.key(id: authorization.accessKeyID) else {
            throw SigV4Failure(type: "UnrecognizedClientException", status: 403, message: "The security token included in the request is invalid.")
        }
        guard authorization.service == service else {
            throw .incomplete("Credential should be scoped to correct service: '\(service)'.")
        }
        guard let amzDate = headers.first(where: { $0.name.lowercased() == "x-amz-date" })?.value, let signedAt = parseAmzDate(amzDate) else {
            throw .incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header in %Y%m%dT%H%M%SZ form")
        }
        guard amzDate.hasPrefix(authorization.date) else {
            throw SigV4Failure(
                type: "InvalidSignatureException", status: 403,
                message:
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(authorization.date)' != '\(amzDate.prefix(8))'"
            )
        }
        guard abs(signedAt.timeIntervalSince(now)) <= allowedSkew else {
            let bound = Self.amzDate(signedAt < now ? now.addingTimeInterval(-allowedSkew) : now.addingTimeInterval(allowedSkew))
            throw SigV4Failure(
                type: "InvalidSignatureException", status: 403,
                message:
                    "Signature expired: \(amzDate) is now \(signedAt < now ? "earlier" : "later") than \(bound) (\(Self.amzDate(now)) \(signedAt < now ? "-" : "+") 15 min.)"
            )
        }
        for required in ["host", "x-amz-date"] where !authorization.signedHeaders.contains(required) {
            throw .incomplete("SignedHeaders must include \(required)")
        }
        var payloadHash = hexSHA256(body)
        if let declared = headers.first(where: { $0.name.lowercased() == "x-amz-content-sha256" })?.value {
            guard declared.lowercased() == payloadHash else {
                throw SigV4Failure(
                    type: "InvalidSignatureException", status: 403,
                    message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
            }
            payloadHash = declared
        }
        let canonical = canonicalRequest(
            method: method, path: path, query: query, headers: headers, signedHeaders: authorization.signedHeaders, payloadHash: payloadHash)
        let expected = signature(
            canonicalRequest: canonical, amzDate: amzDate, secret: key.secret, date: authorization.date, region: authorization.region,
            service: authorization.service)
        guard constantTimeEquals(expected, authorization.signature) else {
            throw SigV4Failure(
                type: "InvalidSignatureException", status: 403,
                message:
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            )
        }
        return key
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// The headers that sign a request: `X-Amz-Date` and `Authorization` (`Host` and every other
    /// header in `headers` are signed; the caller sends them all).
    public static func sign(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: Data, accessKeyID: String, secret: String,
        region: String, service: String, now: Date
    ) -> [(name: String, value: String)] {
        let amzDate = Self.amzDate(now)
        let all = headers + [("X-Amz-Date", amzDate)]
        let signed = Set(all.map { $0.name.lowercased() }).sorted()
        let canonical = canonicalRequest(method: method, path: path, query: query, headers: all, signedHeaders: signed, payloadHash: hexSHA256(body))
        let date = String(amzDate.prefix(8))
        let signature = signature(canonicalRequest: canonical, amzDate: amzDate, secret: secret, date: date, region: region, service: service)
        return [
            ("X-Amz-Date", amzDate),
            (
                "Authorization",
                "\(algorithm) Credential=\(accessKeyID)/\(date)/\(region)/\(service)/aws4_request, SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"
            ),
        ]
    }
}

/// Why a request's signature was refused, as CloudTrail names it (`__type`) with its HTTP status.
public struct SigV4Failure: Error, Hashable, Sendable, CustomStringConvertible {
    public var type: String
    public var status: Int
    public var message: String

    public init(type: String, status: Int, message: String) {
        self.type = type
        self.status = status
        self.message = message
    }

    static func incomplete(_ message: String) -> SigV4Failure {
        SigV4Failure(type: "IncompleteSignatureException", status: 400, message: message)
    }

    public var description: String { "\(type): \(message)" }
}
