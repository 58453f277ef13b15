// SPDX-License-Identifier: Apache-2.0

import Foundation

/// What `hosttrail validate` already hashed: a log file's SHA-256, keyed on its path, inode, size
/// and modification time, so a re-run reads only new or rewritten files.
public struct ValidationState: Codable, Sendable {
    public struct Identity: Codable, Hashable, Sendable {
        var inode: UInt64
        var size: UInt64
        var modified: Double
    }

    struct Entry: Codable, Sendable {
        var identity: Identity
        var sha256: String
    }

    var files: [String: Entry] = [:]

    public init() {}

    /// The state saved at `path`; empty when there is none or it cannot be read.
    public static func load(from path: String) -> ValidationState {
        guard let data = FileManager.default.contents(atPath: path), let state = try? JSONDecoder().decode(ValidationState.self, from: data) else {
            return ValidationState()
        }
        return state
    }

    public func save(to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func identity(of path: String) -> Identity? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value, let size = (attributes[.size] as? NSNumber)?.uint64Value,
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return Identity(inode: inode, size: size, modified: modified.timeIntervalSince1970)
    }

    func hash(path: String, identity: Identity) -> String? {
        guard let entry = files[path], entry.identity == identity else { return nil }
        return entry.sha256
    }

    mutating func remember(path: String, identity: Identity, hash: String) {
        files[path] = Entry(identity: identity, sha256: hash)
    }
}
