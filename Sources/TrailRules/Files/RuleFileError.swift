// SPDX-License-Identifier: Apache-2.0

/// A rule file that cannot be loaded: the line (when one is to blame) and why.
public struct RuleFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// From 1.
    public var line: Int?
    public var reason: String

    public init(line: Int?, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
}
