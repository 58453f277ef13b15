// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How the daemons write log lines (`--log-format`): one line an event, on standard error, which
/// systemd hands to the journal.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's stream format: `2026-12-05T14:00:00+0000 info hosttrail-agent: key=value [Module] message`.
    case text
    /// `time=… level=info logger=hosttrail-agent msg="…" key=value`, values quoted and escaped.
    case logfmt
    /// `{"time":"…","level":"info","logger":"hosttrail-agent","msg":"…","key":"value"}`.
    case json
}

/// The daemons' log handler: their chosen ``LogFormat`` at the level in force, which a reload
/// changes for every logger at once (``DaemonLogging/setLevel(_:)``).
///
/// Metadata values come from records (user names, paths): logfmt and JSON escape quotes,
/// backslashes and control characters, so a hostile value cannot forge a line or a key.
struct DaemonLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    let level: SharedLogLevel
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    /// A level set on one logger (`logger.logLevel = …`) holds for that logger only.
    private var ownLevel: Logger.Level?

    init(label: String, format: LogFormat, level: SharedLogLevel) {
        self.label = label
        self.format = format
        self.level = level
        stream = StreamLogHandler.standardError(label: label)
        stream.logLevel = .trace
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? level.current }
        set { ownLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if format == .text {
            var event = event
            if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { $1 } }
            stream.log(event: event)
            return
        }
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { fields["error"] = "\(error)" }
        var pairs: [(String, String)] = [
            ("time", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", event.message.description),
        ]
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !["time", "level", "logger", "msg"].contains(key) {
            pairs.append((key, "\(value)"))
        }
        let line = format == .json ? Self.json(pairs) : Self.logfmt(pairs)
        // One write(2) a line: lines from several threads do not interleave.
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// `key=value`, the value quoted when it holds a space, `=`, a quote or anything escaped.
    static func logfmt(_ pairs: [(String, String)]) -> String {
        pairs.map { key, value in
            // Printable ASCII alone goes bare; anything else (spaces, controls, C1, U+2028) is quoted and escaped.
            let plain =
                !value.isEmpty && value.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) && $0 != "=" && $0 != "\"" && $0 != "\\" }
            return "\(logfmtKey(key))=\(plain ? value : "\"" + escaped(value) + "\"")"
        }.joined(separator: " ")
    }

    /// Keys are the daemons' own, but a key is still held to `[A-Za-z0-9_.-]`.
    static func logfmtKey(_ key: String) -> String {
        String(
            key.unicodeScalars.map { scalar -> Character in
                let allowed =
                    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || "_.-".unicodeScalars.contains(scalar)
                return allowed ? Character(scalar) : "_"
            })
    }

    static func json(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\"\(escaped($0.0))\":\"\(escaped($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// JSON's string escapes (which logfmt's quoted values share).
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _
            where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar.value == 0x2028
                || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// UTC, milliseconds: `2026-12-05T14:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let millis = Int(now.tv_nsec / 1_000_000)
        let base = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return base + "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + "\(millis)Z"
    }
}

/// The level every daemon logger follows unless set on its own. Read on every log call swift-log
/// makes (to decide whether to log at all): an atomic load, not a lock.
final class SharedLogLevel: Sendable {
    private let level: Atomic<Int>

    init(_ level: Logger.Level) {
        self.level = Atomic(Self.index(level))
    }

    var current: Logger.Level { Logger.Level.allCases[level.load(ordering: .relaxed)] }

    func set(_ new: Logger.Level) {
        level.store(Self.index(new), ordering: .relaxed)
    }

    private static func index(_ level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level) ?? 2 }
}
