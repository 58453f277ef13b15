// SPDX-License-Identifier: Apache-2.0

import CCurl

/// A libcurl failure: the `CURLcode`, libcurl's text for it and the error buffer's detail.
public struct CurlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw `CURLcode`.
    public var code: Int
    /// `curl_easy_strerror(code)`.
    public var summary: String
    /// `CURLOPT_ERRORBUFFER`: what exactly went wrong ("SSL certificate problem: …").
    public var detail: String
    /// The URL of the request, when there was one.
    public var url: String?

    public init(code: Int, summary: String, detail: String, url: String?) {
        self.code = code
        self.summary = summary
        self.detail = detail
        self.url = url
    }

    public var description: String {
        var text = "curl error \(code) (\(summary))"
        if !detail.isEmpty { text += ": \(detail)" }
        if let url { text += " [\(url)]" }
        return text
    }

    /// Whether trying again later can succeed: network and TLS-handshake trouble, timeouts.
    public var isTransient: Bool {
        switch CURLcode(UInt32(code)) {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_OPERATION_TIMEDOUT,
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR:
            true
        default:
            false
        }
    }
}
