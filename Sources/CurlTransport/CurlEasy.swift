// SPDX-License-Identifier: Apache-2.0

import CCurl
import FoundationEssentials

/// Owns one libcurl easy handle (`CURL *`) and what libcurl keeps pointers to.
///
/// libcurl does not copy header lists, callback userdata or the error buffer, so this object
/// holds them for as long as the handle lives. An easy handle must never be used by two threads
/// at once; callers serialise access (``HTTPSClient`` does). Keeping one handle across requests
/// lets libcurl reuse its connection and TLS session.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Filled by the write callback during `perform`.
    fileprivate var responseBody = Data()
    fileprivate var responseHeaders: [(String, String)] = []

    init() throws {
        guard let handle = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), summary: "curl_easy_init failed", detail: "", url: nil)
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try check(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        // Signals and threads do not mix (libcurl-thread(3)).
        try set(CURLOPT_NOSIGNAL, 1)
        try check(
            ccurl_setopt_write_function(handle) { data, size, count, userdata in
                guard let userdata, let data else { return 0 }
                let owner = Unmanaged<CurlEasy>.fromOpaque(userdata).takeUnretainedValue()
                owner.responseBody.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            })
        try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque()))
        try check(
            ccurl_setopt_header_function(handle) { data, size, count, userdata in
                guard let userdata, let data else { return 0 }
                let owner = Unmanaged<CurlEasy>.fromOpaque(userdata).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                if let colon = line.firstIndex(of: ":") {
                    owner.responseHeaders.append(
                        (
                            trimmed(line[..<colon]).lowercased(),
                            trimmed(line[line.index(after: colon)...])
                        ))
                } else if line.hasPrefix("HTTP/") {
                    owner.responseHeaders.removeAll()  // a new response (after a 100 Continue or a redirect)
                }
                return size * count
            })
        try check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque()))
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(ccurl_setopt_long(handle, option, value))
    }

    func set(_ option: CURLoption, _ value: String) throws {
        try check(ccurl_setopt_string(handle, option, value))
    }

    /// A string option, or `nil` to restore its default.
    func set(_ option: CURLoption, _ value: String?) throws {
        if let value {
            try set(option, value)
        } else {
            try check(ccurl_setopt_string(handle, option, nil))
        }
    }

    /// Replaces the request headers; the list lives until the next call or `deinit`.
    func setHeaders(_ headers: [String]) throws {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        for header in headers {
            guard let appended = curl_slist_append(headerList, header) else {
                throw CurlError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), summary: "curl_slist_append failed", detail: "", url: nil)
            }
            headerList = appended
        }
        try check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
    }

    /// Sets the body of a POST; libcurl copies it (CURLOPT_COPYPOSTFIELDS), so `body` need not outlive the call.
    func setPostBody(_ body: Data) throws {
        try check(ccurl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
        // A zero-length body still needs a valid pointer.
        let bytes = body.isEmpty ? Data([0]) : body
        try bytes.withUnsafeBytes { raw in
            try check(ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress!)))
        }
    }

    /// Runs the transfer (blocking) and returns the status, headers and body.
    func perform(url: String) throws -> (status: Int, headers: [(String, String)], body: Data) {
        responseBody = Data()
        responseHeaders = []
        errorBuffer[0] = 0
        try set(CURLOPT_URL, url)
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { throw error(code, url: url) }
        var status = 0
        try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        return (status, responseHeaders, responseBody)
    }

    /// The one place a `CURLcode` becomes a Swift error.
    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw error(code, url: nil) }
    }

    private func error(_ code: CURLcode, url: String?) -> CurlError {
        CurlError(
            code: Int(code.rawValue),
            summary: String(cString: curl_easy_strerror(code)),
            detail: trimmed(String(cString: errorBuffer)[...]),
            url: url
        )
    }
}

@available(*, unavailable)
extension CurlEasy: Sendable {}

/// The text without leading and trailing white space and line ends. (Foundation's
/// `trimmingCharacters(in:)` would link all of Foundation into the agent.)
func trimmed(_ text: Substring) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}
