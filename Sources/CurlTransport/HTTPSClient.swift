// SPDX-License-Identifier: Apache-2.0

import CCurl
import FoundationEssentials
import Synchronization

/// A blocking HTTPS client on libcurl with a client certificate: what the agent ships with and
/// the CLI queries with.
///
/// One easy handle is kept for the client's life, so the TLS connection is reused between
/// requests. Calls are serialised by a lock; run them off the Swift cooperative pool (the agent
/// uses a `NIOThreadPool`).
public final class HTTPSClient: Sendable {
    /// How to reach the server.
    public struct Configuration: Sendable, Hashable {
        /// PEM bundle of the CA that signed the server's certificate. Default: `nil` (the system store).
        public var caFile: String?
        /// PEM client certificate. Default: `nil` (no client certificate).
        public var certificateFile: String?
        /// PEM private key of the client certificate. Default: `nil`.
        public var keyFile: String?
        /// An HTTP(S) proxy URL. Default: `nil` (libcurl's own environment handling is disabled).
        public var proxy: String?
        /// Connect timeout. Default: 10 s.
        public var connectTimeout: Duration
        /// Whole-request timeout. Default: 60 s.
        public var totalTimeout: Duration
        /// Connect to this Unix socket instead of the URL's host (the agent's application socket,
        /// plain HTTP). Default: `nil`.
        public var unixSocketPath: String?

        public init(
            caFile: String? = nil,
            certificateFile: String? = nil,
            keyFile: String? = nil,
            proxy: String? = nil,
            connectTimeout: Duration = .seconds(10),
            totalTimeout: Duration = .seconds(60),
            unixSocketPath: String? = nil
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.proxy = proxy
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.unixSocketPath = unixSocketPath
        }
    }

    /// A response: status, lower-cased headers, body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    // The lock serialises every use of the easy handle, which libcurl requires; CurlEasy itself is
    // not Sendable, and this class never lets it escape the lock.
    private let easy: Mutex<CurlEasyBox>
    public let configuration: Configuration

    public init(configuration: Configuration) throws {
        CurlGlobal.initialize()
        self.configuration = configuration
        let easy = try CurlEasy()
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = configuration.caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        if let certificateFile = configuration.certificateFile { try easy.set(CURLOPT_SSLCERT, certificateFile) }
        if let keyFile = configuration.keyFile { try easy.set(CURLOPT_SSLKEY, keyFile) }
        try easy.set(CURLOPT_PROXY, configuration.proxy ?? "")
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.milliseconds))
        try easy.set(CURLOPT_TIMEOUT_MS, Int(configuration.totalTimeout.milliseconds))
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        if let path = configuration.unixSocketPath { try easy.set(CURLOPT_UNIX_SOCKET_PATH, path) }
        self.easy = Mutex(CurlEasyBox(easy))
    }

    /// POSTs `body` to `url` and waits for the whole response (blocking).
    ///
    /// - Throws: ``CurlError`` when no HTTP response arrived (connection, TLS, timeout).
    public func post(url: String, headers: [String], body: Data) throws -> Response {
        try send(method: "POST", url: url, headers: headers, body: body)
    }

    /// Sends `body` with `method` (`POST`, `PUT`; `GET` and `HEAD` send none) to `url` and waits
    /// for the whole response (blocking).
    public func send(method: String, url: String, headers: [String], body: Data) throws -> Response {
        try easy.withLock { box in
            let easy = box.easy
            try easy.setHeaders(headers + ["Expect:"])  // no 100-continue round trip
            if method == "GET" || method == "HEAD" {
                try easy.set(CURLOPT_CUSTOMREQUEST, String?.none)
                try easy.set(CURLOPT_NOBODY, 0)
                try easy.set(CURLOPT_HTTPGET, 1)
                if method == "HEAD" { try easy.set(CURLOPT_NOBODY, 1) }  // headers only, no body awaited
            } else {
                try easy.set(CURLOPT_NOBODY, 0)
                try easy.set(CURLOPT_POST, 1)
                try easy.set(CURLOPT_CUSTOMREQUEST, method == "POST" ? nil : method)
                try easy.setPostBody(body)
            }
            let result = try easy.perform(url: url)
            var headers: [String: String] = [:]
            for (name, value) in result.headers { headers[name] = value }
            return Response(status: result.status, headers: headers, body: result.body)
        }
    }
}

/// Moves the easy handle into the `Mutex`; only ever touched under the lock.
struct CurlEasyBox: ~Copyable {
    let easy: CurlEasy
    init(_ easy: CurlEasy) { self.easy = easy }
}

/// `curl_global_init(3)` must run once before any other libcurl call, ideally before threads start.
public enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// Initialises libcurl once; executables call it first thing in `main`.
    @discardableResult
    public static func initialize() -> Bool { initialized }

    /// `libcurl/7.88.1 OpenSSL/3.0.19 …`.
    public static var version: String { String(cString: curl_version()) }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
