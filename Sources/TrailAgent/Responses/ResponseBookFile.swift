// SPDX-License-Identifier: Apache-2.0

import FoundationEssentials
import TrailCore

#if canImport(Glibc)
    import Glibc
#endif

/// The ``ResponseBook`` on disk (`responses.json` in the spool directory), replaced whole and
/// durably (written beside, fsync'd, renamed, the directory fsync'd) before the agent acts on
/// what it says: a crash leaves the previous book or this one, never a torn one.
struct ResponseBookFile: Sendable {
    let path: String

    init(directory: String) { path = directory + "/responses.json" }

    /// The saved book; an empty one when there is none.
    ///
    /// - Throws: When the file exists but is not a book (the agent then refuses to respond, rather
    ///   than forget bans and locks it must end).
    func load() throws -> ResponseBook {
        guard FileManager.default.fileExists(atPath: path) else { return ResponseBook() }
        return try JSONDecoder().decode(ResponseBook.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func save(_ book: ResponseBook) throws {
        let data = try JSONEncoder().encode(book)
        let temporary = path + ".new"
        let fd = try SystemCall.check("open \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        do {
            try SystemCall.writeAll(fd, data)
            try SystemCall.check("fsync \(temporary)") { fsync(fd) }
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        try SystemCall.check("rename \(temporary)") { rename(temporary, path) }
        try SystemCall.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
    }
}
