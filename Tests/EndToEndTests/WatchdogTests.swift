// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore
import TrailTestSupport

/// The systemd side of a `Type=notify` unit with `WatchdogSec=`, played by the test over a real
/// notification socket: the agent says `READY=1`, keeps a `STATUS=` line, and sends `WATCHDOG=1`
/// at half the timeout; when its loops stall (the process is stopped) the pings stop, and what the
/// service manager then does (SIGABRT, then a restart) loses nothing.
// Four minutes: beside the other suites on two cores it took 114-131 s (alone, 12 s).
@Suite(.serialized, .endToEnd)
struct WatchdogTests {
    @Test func theAgentFeedsTheWatchdogUntilItStallsAndARestartLosesNothing() throws {
        let fleet = try Fleet(hosts: ["web-01"])
        try fleet.startCollector()
        let notify = try UnixSockets.DatagramListener(path: fleet.directory.file("notify"))
        let environment = ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"]
        let agent = try fleet.startAgent("web-01", environment: environment)
        let started = notify.receive(until: "READY=1", timeout: 30)
        #expect(started.contains { $0.contains("READY=1") }, "\(started)\n\(fleet.agentLogs())")

        // Alive: a ping every half second, and the health in `systemctl status`.
        var messages: [String] = []
        let watch = Date().addingTimeInterval(2.5)
        while Date() < watch { messages += notify.receive(until: "\u{0}never", timeout: 0.5) }
        #expect(messages.filter { $0.contains("WATCHDOG=1") }.count >= 3, "\(messages)")
        #expect(messages.contains { $0.contains("STATUS=ok: ") && $0.contains("to ship") }, "\(messages)")

        // Records the collector does not get yet: the agent is stopped before it can ship them all.
        #expect(fleet.collector?.stop() == 0)
        for index in 0..<20 { #expect(try fleet.post(#"{"eventName":"BeforeStall\#(index)"}"#).status == 202) }

        // Stalled: no ping for twice the timeout.
        kill(agent.pid, SIGSTOP)
        usleep(200_000)
        _ = notify.receive(until: "\u{0}never", timeout: 0.2)  // what was sent before the stop
        let silent = notify.receive(until: "WATCHDOG=1", timeout: 2)
        #expect(!silent.contains { $0.contains("WATCHDOG=1") }, "\(silent)")

        // What systemd does at the watchdog's timeout: SIGABRT (its WatchdogSignal), SIGKILL if
        // that has not ended it within TimeoutAbortSec (here 5 s), then a restart; the spool is
        // where the agent left it.
        kill(agent.pid, SIGABRT)
        kill(agent.pid, SIGCONT)
        if (try? agent.waitForExit(timeout: 5)) == nil {
            kill(agent.pid, SIGKILL)
            _ = try agent.waitForExit(timeout: 10)
        }
        try fleet.startCollector()
        let restarted = try fleet.startAgent("web-01", environment: environment)
        let again = notify.receive(until: "READY=1", timeout: 30)
        #expect(again.contains { $0.contains("READY=1") }, "\(again)\n\(restarted.log)")
        let arrived = try waitForEvents(fleet, prefix: "BeforeStall", count: 20)
        #expect(arrived == 20, "\(fleet.agentLogs())")
    }

    /// Polls the store until `count` events named `prefix…` are there; returns how many are.
    func waitForEvents(_ fleet: Fleet, prefix: String, count: Int) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        var found = 0
        while Date() < deadline {
            let result = try Command.run(
                "sqlite3",
                ["-readonly", fleet.directory.file("collector/events.sqlite"), "SELECT count(*) FROM events WHERE event_name LIKE '\(prefix)%'"])
            found = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            if found >= count { break }
            usleep(200_000)
        }
        return found
    }
}
