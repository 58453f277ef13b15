// SPDX-License-Identifier: Apache-2.0

import CSystemd
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd about the service's state through `$NOTIFY_SOCKET` (sd_notify(3)).
///
/// A `Type=notify` unit is "started" only when the service sends `READY=1`; `STOPPING=1` marks a
/// graceful shutdown. Outside systemd (no `NOTIFY_SOCKET`), every call does nothing.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// `READY=1`, with a status line for `systemctl status`.
    @discardableResult
    public func ready(status: String) -> Bool {
        Self.readySent.store(true, ordering: .relaxed)
        return send("READY=1\nSTATUS=\(String(status.unicodeScalars.map { $0.value < 0x20 ? " " : Character($0) }))")
    }

    /// Whether this process has said `READY=1`: a reload before it must not (systemd would take
    /// the `READY=1` that ends a reload for the end of the start-up).
    public static var hasSignalledReady: Bool { readySent.load(ordering: .relaxed) }
    private static let readySent = Atomic<Bool>(false)

    /// `STOPPING=1`: the service began its graceful shutdown.
    @discardableResult
    public func stopping() -> Bool {
        send("STOPPING=1")
    }

    /// `STATUS=…` alone; control characters (a newline would start another assignment) become spaces.
    @discardableResult
    public func status(_ text: String) -> Bool {
        let line = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return csystemd_notify_status(0, line) > 0
    }

    /// `WATCHDOG=1`: the service's loops are alive.
    @discardableResult
    public func watchdog() -> Bool {
        send("WATCHDOG=1")
    }

    /// `RELOADING=1` with the monotonic time systemd 253+ expects (older ones ignore it), then
    /// `READY=1` once the reload is done: `systemctl reload` waits for it with `Type=notify-reload`.
    @discardableResult
    public func reloading() -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return send("RELOADING=1\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)")
    }

    /// How often systemd expects `WATCHDOG=1` (`WatchdogSec=`): `nil` without a watchdog for this process.
    public var watchdogTimeout: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }

    /// Until the task is cancelled: `STATUS=` with `line()`, and `WATCHDOG=1` when systemd
    /// watches this process, every `interval` (the watchdog at half its timeout, when shorter).
    /// The two loops run apart, so a slow `line()` (a store's health check) never holds back the
    /// watchdog. Both run on the cooperative pool every service's loop shares: a pool whose threads
    /// are all stuck (a blocking call where none may be) stops feeding the watchdog, and systemd
    /// restarts the daemon.
    public func keepReporting(every interval: Duration, line: @escaping @Sendable () async -> String) async {
        await withTaskGroup(of: Void.self) { group in
            if let watchdog = watchdogTimeout {
                group.addTask {
                    while !Task.isCancelled {
                        self.watchdog()
                        try? await Task.sleep(for: min(watchdog / 2, interval))
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    // Sent every time, not only on a change: READY=1's own status may have replaced it.
                    self.status(await line())
                    try? await Task.sleep(for: interval)
                }
            }
        }
    }

    /// Sends `state`; `true` when a notification socket received it.
    ///
    /// sd_notify(3) returns a negative errno on failure, 0 when `$NOTIFY_SOCKET` is unset, and a
    /// positive value when the message was sent. Failing to notify never stops the service.
    @discardableResult
    public func send(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }
}
