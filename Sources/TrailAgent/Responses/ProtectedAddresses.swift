// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// The addresses no `block-address` response may block whatever its definition says: the host's
/// own (every interface's, loopback included), the collector's and the proxy's (what their names
/// resolve to), so a response cannot cut the host off from its collector or from itself. Read
/// when the agent starts: an address the host gains later is protected after a restart.
enum ProtectedAddresses {
    static func of(collectorURL: String, proxy: String?) -> [CIDRBlock] {
        var blocks = [CIDRBlock(addressOrBlock: "127.0.0.0/8"), CIDRBlock(addressOrBlock: "::1")].compactMap { $0 }
        blocks += interfaceAddresses().compactMap { CIDRBlock(addressOrBlock: $0) }
        for url in [collectorURL, proxy].compactMap({ $0 }) {
            if let host = collectorHost(url) { blocks += resolve(host).compactMap { CIDRBlock(addressOrBlock: $0) } }
        }
        return blocks
    }

    static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var next = list
        while let entry = next {
            if let address = entry.pointee.ifa_addr, let text = numeric(address) { addresses.append(text) }
            next = entry.pointee.ifa_next
        }
        return addresses
    }

    /// The host part of `https://host:port/…` (brackets of an IPv6 literal removed).
    static func collectorHost(_ url: String) -> String? {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty else { return nil }
        var authority = parts[2][...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        return String(authority.prefix { $0 != ":" })
    }

    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &results) == 0 else { return [] }
        defer { freeaddrinfo(results) }
        var addresses: [String] = []
        var next = results
        while let entry = next {
            if let address = entry.pointee.ai_addr, let text = numeric(address) { addresses.append(text) }
            next = entry.pointee.ai_next
        }
        return addresses
    }

    static func numeric(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        // A link-local IPv6 address comes with its zone (`fe80::1%eth0`).
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "%").first.map(String.init)
    }
}
