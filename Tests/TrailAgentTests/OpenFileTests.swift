// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailTestSupport

@testable import TrailAgent

struct OpenFileTests {
    /// The descriptor is closed when the last reference goes, and not before.
    @Test func theDescriptorLivesAsLongAsItsLastReference() throws {
        let directory = try TemporaryDirectory(prefix: "open-file")
        defer { directory.remove() }
        let path = directory.file("auth.log")
        try Data("first\nsecond\n".utf8).write(to: URL(fileURLWithPath: path))
        var file: OpenFile? = try #require(OpenFile(path: path))
        let descriptor = try #require(file?.descriptor)
        // What the descriptor names (another test may reuse the number once it is closed).
        func opened() -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)") }
        var copy = file
        file = nil
        #expect(opened() == path)
        var buffer = [UInt8](repeating: 0, count: 6)
        #expect(try buffer.withUnsafeMutableBytes { try copy!.read(into: $0, at: 6) } == 6 && buffer == Array("second".utf8))
        #expect(copy?.size == 13)
        copy = nil
        #expect(opened() != path)
        #expect(OpenFile(path: directory.file("missing")) == nil && errno == ENOENT)
    }
}
