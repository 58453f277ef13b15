// SPDX-License-Identifier: Apache-2.0

import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Owns one `sd_journal` read handle. sd_journal_open(3): a handle must be used by one thread for
/// its whole life, so a `JournalHandle` is created, used and released on one thread only (the
/// agent's journal reader thread).
public final class JournalHandle {
    // Not Sendable on purpose: it never leaves its thread.
    private let handle: OpaquePointer
    /// The journal directory, or `nil` for the local machine's journal.
    public let directory: String?

    /// Opens the local journal (system and users), or the files under `directory`.
    public init(directory: String?) throws(JournalError) {
        var opened: OpaquePointer?
        if let directory {
            try JournalError.check(sd_journal_open_directory(&opened, directory, 0), "sd_journal_open_directory", directory)
        } else {
            try JournalError.check(sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY)), "sd_journal_open")
        }
        guard let opened else { throw JournalError(operation: "sd_journal_open", code: ENOMEM, context: directory) }
        handle = opened
        self.directory = directory
        // The inotify watches are set up now, not at the first sd_journal_wait: that first wait
        // otherwise answers SD_JOURNAL_INVALIDATE at once for the files this open found, and a
        // reader that reopens on INVALIDATE would reopen forever (sd_journal_get_fd(3)). Processing
        // once settles the handle's change counter, so a later INVALIDATE is a real file change.
        if sd_journal_get_fd(opened) >= 0 { _ = sd_journal_process(opened) }
    }

    deinit {
        sd_journal_close(handle)
    }

    /// Restricts reading to entries where, for some group, the field has one of the values: the
    /// groups are disjunctions (sd_journal_add_disjunction), the values of one field alternatives.
    /// journald skips everything else without handing it out.
    public func match(anyOf groups: [(field: String, values: [String])]) throws(JournalError) {
        for (index, group) in groups.enumerated() {
            if index > 0 { try JournalError.check(sd_journal_add_disjunction(handle), "sd_journal_add_disjunction") }
            for value in group.values { try addMatch("\(group.field)=\(value)") }
        }
    }

    private func addMatch(_ match: String) throws(JournalError) {
        let result = match.withCString { sd_journal_add_match(handle, $0, 0) }
        try JournalError.check(result, "sd_journal_add_match", match)
    }

    public func flushMatches() {
        sd_journal_flush_matches(handle)
    }

    public func seekHead() throws(JournalError) { try JournalError.check(sd_journal_seek_head(handle), "sd_journal_seek_head") }
    public func seekTail() throws(JournalError) { try JournalError.check(sd_journal_seek_tail(handle), "sd_journal_seek_tail") }

    public func seek(realtimeMicroseconds: UInt64) throws(JournalError) {
        try JournalError.check(sd_journal_seek_realtime_usec(handle, realtimeMicroseconds), "sd_journal_seek_realtime_usec")
    }

    public func seek(cursor: String) throws(JournalError) {
        try JournalError.check(sd_journal_seek_cursor(handle, cursor), "sd_journal_seek_cursor", cursor)
    }

    /// Moves to the next entry; `false` at the end.
    public func next() throws(JournalError) -> Bool {
        try JournalError.check(sd_journal_next(handle), "sd_journal_next") > 0
    }

    /// Moves to the previous entry; `false` at the beginning.
    public func previous() throws(JournalError) -> Bool {
        try JournalError.check(sd_journal_previous(handle), "sd_journal_previous") > 0
    }

    /// Whether the current entry is the one `cursor` names.
    public func isAt(cursor: String) -> Bool {
        sd_journal_test_cursor(handle, cursor) > 0
    }

    /// The current entry's cursor.
    public func cursor() throws(JournalError) -> String {
        var text: UnsafeMutablePointer<CChar>?
        try JournalError.check(sd_journal_get_cursor(handle, &text), "sd_journal_get_cursor")
        guard let text else { throw JournalError(operation: "sd_journal_get_cursor", code: ENOMEM) }
        defer { free(text) }
        return String(cString: text)
    }

    public func realtimeMicroseconds() throws(JournalError) -> UInt64 {
        var value: UInt64 = 0
        try JournalError.check(sd_journal_get_realtime_usec(handle, &value), "sd_journal_get_realtime_usec")
        return value
    }

    /// Calls `body` with each field of the current entry, name and value apart (valid only during
    /// the call): one pass over the entry instead of a lookup per field.
    public func forEachField(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        sd_journal_restart_data(handle)
        var data: UnsafeRawPointer?
        var length = 0
        while sd_journal_enumerate_data(handle, &data, &length) > 0 {
            guard let data else { continue }
            let bytes = UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt8.self), count: length)
            guard let equals = bytes.firstIndex(of: 61) else { continue }  // "="
            body(UnsafeBufferPointer(rebasing: bytes[..<equals]), UnsafeBufferPointer(rebasing: bytes[(equals + 1)...]))
        }
    }

    /// What changed while waiting.
    public enum Change {
        /// Nothing within the timeout.
        case none
        /// Entries were appended.
        case appended
        /// Files were added or removed (rotation, vacuum, a new boot's file): reopen and re-seek.
        case invalidated
    }

    /// Waits up to `timeoutMicroseconds` for the journal to change.
    public func wait(timeoutMicroseconds: UInt64) throws(JournalError) -> Change {
        let result = try JournalError.check(sd_journal_wait(handle, timeoutMicroseconds), "sd_journal_wait")
        switch result {
        case Int32(SD_JOURNAL_APPEND): return .appended
        case Int32(SD_JOURNAL_INVALIDATE): return .invalidated
        default: return .none
        }
    }

    /// Whether the handle found any journal file (a host without journald has none).
    public var hasFiles: Bool {
        var usage: UInt64 = 0
        return sd_journal_get_usage(handle, &usage) >= 0 && usage > 0
    }
}
