// SPDX-License-Identifier: Apache-2.0

import Dispatch

/// Keeps a `Type=notify` unit from failing its start while a long step runs before `READY=1` (a
/// schema migration of a large store takes about a minute per million events; the default
/// `TimeoutStartSec` is 90 s and a killed migration rolls back, so it would never finish).
///
/// Every `interval` it asks for three intervals more (`EXTEND_TIMEOUT_USEC`, systemd 236 and
/// later) with `status` for `systemctl status`, from now until `stop()`. The step is not watched:
/// one that hangs keeps the unit starting, with that status showing, rather than being killed
/// and rolled back to start over.
public final class StartTimeoutExtension: @unchecked Sendable {
    // @unchecked: the only state is a Dispatch timer, which is thread-safe.
    private let timer: any DispatchSourceTimer

    public init(status: String, interval: Duration = .seconds(20), notifier: SystemdNotifier = SystemdNotifier()) {
        let microseconds = interval.components.seconds * 3_000_000
        timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now(), repeating: .seconds(Int(interval.components.seconds)))
        timer.setEventHandler { notifier.send("EXTEND_TIMEOUT_USEC=\(microseconds)\nSTATUS=\(status)") }
        timer.resume()
    }

    public func stop() {
        timer.cancel()
    }
}
