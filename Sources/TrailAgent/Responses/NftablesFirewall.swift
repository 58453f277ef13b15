// SPDX-License-Identifier: Apache-2.0

/// `block-address` in the kernel: a table of the agent's own (`inet hosttrail`) holding an IPv4
/// and an IPv6 set whose elements carry their own timeout, and an input chain that drops what
/// comes from either. A ban expires in the kernel even when the agent is down; no other table is
/// read or touched. Each change is one `nft -f -` transaction.
struct NftablesFirewall: Sendable {
    var table: String
    var program = "/usr/sbin/nft"

    static let defaultTable = "hosttrail"

    /// Creates the table, sets and chain if missing; the chain's rules are replaced (so a start
    /// after an upgrade or a hand edit has exactly these), the sets' elements kept.
    func prepare() throws(ResponseFailure) {
        try apply(
            """
            add table inet \(table)
            add set inet \(table) blocked4 { type ipv4_addr; flags timeout; }
            add set inet \(table) blocked6 { type ipv6_addr; flags timeout; }
            add chain inet \(table) input { type filter hook input priority -10; policy accept; }
            flush chain inet \(table) input
            add rule inet \(table) input ip saddr @blocked4 drop
            add rule inet \(table) input ip6 saddr @blocked6 drop
            """)
    }

    /// Drops `address`'s packets for `seconds` (a block already in force gets the new timeout).
    /// `address` is canonical text from ``ResponsePolicy`` (parsed, never a caller's string).
    func block(_ address: String, seconds: Int64) throws(ResponseFailure) {
        let set = Self.set(of: address)
        // add-then-delete makes the delete succeed whether or not it was there; the element is
        // then added afresh with the new timeout, all in one transaction.
        try apply(
            """
            add element inet \(table) \(set) { \(address) timeout 1s }
            delete element inet \(table) \(set) { \(address) }
            add element inet \(table) \(set) { \(address) timeout \(max(1, seconds))s }
            """)
    }

    /// Accepts `address` again (nothing to do when its timeout already removed it).
    func unblock(_ address: String) throws(ResponseFailure) {
        let set = Self.set(of: address)
        try apply(
            """
            add element inet \(table) \(set) { \(address) timeout 1s }
            delete element inet \(table) \(set) { \(address) }
            """)
    }

    /// Removes the agent's table and everything in it (``ResponsePurge``).
    func purge() throws(ResponseFailure) {
        try apply("add table inet \(table)\ndelete table inet \(table)")
    }

    static func set(of address: String) -> String { address.contains(":") ? "blocked6" : "blocked4" }

    func apply(_ script: String) throws(ResponseFailure) {
        let result: ChildProgram.Result
        do {
            result = try ChildProgram.run([program, "-f", "-"], input: Array((script + "\n").utf8), timeout: .seconds(10))
        } catch {
            throw ResponseFailure(code: "FirewallUnavailable", message: "cannot run \(program): \(error)")
        }
        guard result.succeeded else {
            throw ResponseFailure(
                code: "FirewallFailed", message: "nft exited \(result.exitCode.map(String.init) ?? "on a signal"): \(result.output.prefix(512))")
        }
    }
}
