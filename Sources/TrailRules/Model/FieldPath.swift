// SPDX-License-Identifier: Apache-2.0

import TrailCore

/// A dotted path into an event's envelope (`detail.sourceIPAddress`, `detail.userIdentity.userName`;
/// a leading `$.` is allowed): where a window's `group-by` and `field` read their values.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let keys: [String]

    public init?(_ text: String) {
        let trimmed = text.hasPrefix("$.") ? String(text.dropFirst(2)) : text
        let keys = trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !trimmed.isEmpty, keys.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.keys = keys
    }

    public var description: String { keys.joined(separator: ".") }

    /// The value there, `null` when absent.
    public func value(in event: JSONValue) -> JSONValue {
        var current = event
        for key in keys {
            guard let next = current[key] else { return .null }
            current = next
        }
        return current
    }
}
