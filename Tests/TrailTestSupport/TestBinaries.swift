// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Where `swift build` put the project's executables: beside the test runner.
public enum TestBinaries {
    public static var directory: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    public static var agent: String { directory + "/hosttrail-agent" }
    public static var collector: String { directory + "/hosttrail-collector" }
    public static var cli: String { directory + "/hosttrail" }

    /// The package's root, for files like `packaging/`.
    public static func packageRoot(filePath: String = #filePath) -> String {
        var url = URL(fileURLWithPath: filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }
}
