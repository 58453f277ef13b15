// SPDX-License-Identifier: Apache-2.0

/// The names of the host's accounts by uid, for records whose line gives only a number (PAM's
/// `by (uid=1002)`, the journal's `_UID`). TrailCore does no I/O: the agent passes a lookup in
/// the account database, tests a table.
public struct AccountNames: Sendable {
    private let lookup: @Sendable (Int) -> String?

    public init(_ lookup: @escaping @Sendable (Int) -> String?) {
        self.lookup = lookup
    }

    /// Knows no account (names stay unknown; uids are still recorded).
    public static let none = AccountNames { _ in nil }

    public func name(of uid: Int) -> String? { lookup(uid) }
}
