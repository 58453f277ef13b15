// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Sigma's `re` modifier: a POSIX extended regular expression (glibc's `regcomp`, whose matching
/// does not backtrack exponentially), compiled once. Sigma's flags `i` (`|re|i`) and `m`/`s` map
/// to `REG_ICASE` and `REG_NEWLINE`.
final class SigmaRegex: Sendable {
    private nonisolated(unsafe) let compiled: UnsafeMutablePointer<regex_t>

    init?(_ pattern: String, ignoringCase: Bool = false) {
        let pointer = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let flags = REG_EXTENDED | REG_NOSUB | (ignoringCase ? REG_ICASE : 0)
        guard regcomp(pointer, pattern, flags) == 0 else {
            pointer.deallocate()
            return nil
        }
        compiled = pointer
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    /// `regexec` is safe to call from several threads on one compiled expression.
    func matches(_ text: String) -> Bool {
        regexec(compiled, text, 0, nil, 0) == 0
    }
}
