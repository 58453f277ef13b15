// SPDX-License-Identifier: Apache-2.0

import CSystemd

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

    /// Sends `state`; `true` when a notification socket received it.
    ///
    /// sd_notify(3) returns a negative errno on failure, 0 when `$NOTIFY_SOCKET` is unset, and a
    /// positive value when the message was sent. Failing to notify never stops the service.
    @discardableResult
    public func send(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }
}
