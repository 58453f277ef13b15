// SPDX-License-Identifier: Apache-2.0

import CSystemd

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
        send("READY=1\nSTATUS=\(status)")
    }

    /// `STOPPING=1`: the service began its graceful shutdown.
    @discardableResult
    public func stopping() -> Bool {
        send("STOPPING=1")
    }

    /// `STATUS=…` alone.
    @discardableResult
    public func status(_ text: String) -> Bool {
        csystemd_notify_status(0, text) > 0
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

    /// Until the task is cancelled: `STATUS=` with `line()` whenever it changes, and `WATCHDOG=1`
    /// when systemd watches this process, every `interval` (or half the watchdog's timeout, when
    /// shorter). It runs on the cooperative pool every service's loop shares: a pool whose threads
    /// are all stuck (a blocking call where none may be) stops feeding the watchdog, and systemd
    /// restarts the daemon.
    public func keepReporting(every interval: Duration, line: @Sendable () async -> String) async {
        let watchdog = watchdogTimeout
        let period = watchdog.map { min($0 / 2, interval) } ?? interval
        var last = ""
        while !Task.isCancelled {
            if watchdog != nil { self.watchdog() }
            let current = await line()
            if current != last {
                status(current)
                last = current
            }
            try? await Task.sleep(for: period)
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
