// SPDX-License-Identifier: Apache-2.0

import Synchronization
import Testing

@testable import TrailSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// A hangup that arrives before the reload service traps SIGHUP (a daemon still starting) neither
/// ends the process nor is lost: the service reloads once for it when it starts.
struct SystemdReloadServiceTests {
    final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Until `count` reaches `expected` (10 s).
    func wait(for count: Count, toReach expected: Int) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while count.value.load(ordering: .relaxed) < expected && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(count.value.load(ordering: .relaxed) == expected)
    }

    @Test func aHangupBeforeTheServiceRunsIsHonouredOnceAndLaterOnesThroughTheSignal() async throws {
        SystemdReloadService.recordHangupsUntilRunning()
        // Raised with SIGHUP unblocked on this thread (a test runner's threads may block it), so
        // the handler has run when `raise` returns.
        var hangup = sigset_t()
        var previous = sigset_t()
        sigemptyset(&hangup)
        sigaddset(&hangup, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &hangup, &previous)
        raise(SIGHUP)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        #expect(SystemdReloadService.earlyHangups.load(ordering: .relaxed) == 1)

        let reloads = Count()
        let service = SystemdReloadService { reloads.value.add(1, ordering: .relaxed) }
        let running = Task { try await service.run() }
        defer { running.cancel() }
        try await wait(for: reloads, toReach: 1)
        #expect(SystemdReloadService.earlyHangups.load(ordering: .relaxed) == 0)
        kill(getpid(), SIGHUP)
        try await wait(for: reloads, toReach: 2)
    }
}
