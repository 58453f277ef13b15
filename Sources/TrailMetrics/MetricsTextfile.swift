// SPDX-License-Identifier: Apache-2.0

import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the exposition to a node_exporter textfile (`--metrics-textfile`, a `*.prom` file in
/// the textfile collector's directory) every ``interval`` and once more at shutdown.
///
/// Each write goes to a temporary file beside it and is renamed over it, so node_exporter never
/// reads half a file.
public struct MetricsTextfile: Service {
    private let path: String
    private let registry: MetricsRegistry
    private let interval: Duration
    private let logger: Logger

    public init(path: String, registry: MetricsRegistry, interval: Duration = .seconds(15), logger: Logger) {
        self.path = path
        self.registry = registry
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var failing = false
        while true {
            do {
                try await write()
                if failing { logger.notice("metrics textfile written again", metadata: ["metrics.textfile": "\(path)"]) }
                failing = false
            } catch {
                if !failing { logger.error("cannot write the metrics textfile", metadata: ["metrics.textfile": "\(path)", "error": "\(error)"]) }
                failing = true
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One write: temporary file, rename.
    public func write() async throws(MetricsTextfileError) {
        let body = await registry.exposition()
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MetricsTextfileError(path: temporary, errno: errno) }
        // Readable by node_exporter's user whatever the daemon's umask (the unit's is 0027).
        fchmod(fd, 0o644)
        var written = 0
        while written < body.count {
            let result = body.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, body.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                unlink(temporary)
                throw MetricsTextfileError(path: temporary, errno: error)
            }
            written += result
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw MetricsTextfileError(path: path, errno: error)
        }
    }
}

/// A textfile that could not be written.
public struct MetricsTextfileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
