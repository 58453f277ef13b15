// SPDX-License-Identifier: Apache-2.0

/// What `/proc/<pid>/cgroup` says about the systemd unit a process runs in.
///
/// cgroup v2 gives one line, `0::/system.slice/nginx.service`; v1 gives one per hierarchy, of which
/// the `name=systemd` one carries the same path. The unit is the innermost path component that is
/// a service or a scope (a user's session `session-3.scope`, a user unit under `user@1000.service`).
public struct ControlGroup: Sendable, Hashable {
    /// The cgroup path, e.g. `/system.slice/nginx.service`.
    public var path: String

    public init(path: String) {
        self.path = path
    }

    /// Parses the file's text; `nil` when neither a v2 line nor a v1 `name=systemd` line is there.
    public init?(procText text: String) {
        var fallback: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].hasPrefix("/") else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                self.init(path: String(parts[2]))
                return
            }
            if parts[1] == "name=systemd" { fallback = String(parts[2]) }
        }
        guard let fallback else { return nil }
        self.init(path: fallback)
    }

    /// The innermost `.service` or `.scope` in the path, `nil` in the root or a bare slice.
    public var unit: String? {
        path.split(separator: "/").last { $0.hasSuffix(".service") || $0.hasSuffix(".scope") }.map(String.init)
    }

    /// The `user@UID.service` manager the unit runs under, for a user's own units.
    public var userManager: String? {
        path.split(separator: "/").first { $0.hasPrefix("user@") && $0.hasSuffix(".service") }.map(String.init)
    }
}
