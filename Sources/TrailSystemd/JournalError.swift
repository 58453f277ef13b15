// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#endif

/// A libsystemd journal call that failed: which call, on what, and the errno it returned.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    /// The `sd_journal_*` function.
    public var operation: String
    /// A positive errno (libsystemd returns it negated).
    public var code: Int32
    /// The directory or cursor concerned.
    public var context: String?

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code)))" + (context.map { " (\($0))" } ?? "")
    }

    /// Throws for a negative libsystemd return value; returns it otherwise.
    @discardableResult
    public static func check(_ result: Int32, _ operation: String, _ context: String? = nil) throws(JournalError) -> Int32 {
        if result < 0 { throw JournalError(operation: operation, code: -result, context: context) }
        return result
    }
}
