// SPDX-License-Identifier: Apache-2.0

/// A command given options that cannot work together or name something unusable; the
/// executable reports it as ArgumentParser reports a bad flag (exit 64).
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
