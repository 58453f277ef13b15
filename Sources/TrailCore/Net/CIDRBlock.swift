// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An IPv4 or IPv6 network, `10.0.0.0/24` or `2001:db8::/32`: rules' `cidr` matcher, responses'
/// allow-lists. A bare address is a block of one (`/32`, `/128`) with ``init(addressOrBlock:)``.
public struct CIDRBlock: Sendable, Hashable, CustomStringConvertible {
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddressBytes.parse(String(parts[0])), let length = Int(parts[1]),
            (0...(address.count * 8)).contains(length)
        else { return nil }
        network = address
        prefixLength = length
    }

    /// `10.0.0.0/8` or `192.0.2.7`.
    public init?(addressOrBlock text: String) {
        guard let address = IPAddressBytes.parse(text) else {
            self.init(text)
            return
        }
        self.init(network: address, prefixLength: address.count * 8)
    }

    init(network: [UInt8], prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    public var description: String { "\(IPAddressBytes.format(network))/\(prefixLength)" }

    /// Whether `address` (4 or 16 bytes) lies in the block; an address of the other family does not.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var bits = prefixLength
        for index in 0..<address.count where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if address[index] & mask != network[index] & mask { return false }
            bits -= 8
        }
        return true
    }
}

/// An IP address's bytes: 4 for IPv4, 16 for IPv6 (`inet_pton`'s strict forms).
public enum IPAddressBytes {
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The canonical text (`inet_ntop`): what a response blocks and records, whatever form it came in.
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(cString: buffer) : ""
    }
}
