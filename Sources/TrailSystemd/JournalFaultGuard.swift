// SPDX-License-Identifier: Apache-2.0

import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Survives SIGBUS from a journal file that shrank under the reader.
///
/// libsystemd reads journal files through `mmap`; when a file is truncated while mapped, touching
/// a page past its new end raises SIGBUS, which kills readers (syslog-ng#4645, rsyslog#5020,
/// systemd#33277). journalctl survives it with a handler that lays an anonymous page over the
/// faulting one and lets libsystemd notice; that handler is private to systemd. This is the same
/// idea for HostTrail: on a thread that asked to be guarded, the faulting page becomes zeros (the
/// read goes on and sees garbage or an error) and ``faults`` counts up, so the reader discards what
/// it read since its last commit and reopens the journal. A SIGBUS on any other thread goes to the
/// handler that was installed before (the Swift runtime's backtracer, or the default: a crash).
public enum JournalFaultGuard {
    /// SIGBUS faults absorbed so far on guarded threads, process-wide.
    public static var faults: Int { faultCount.load(ordering: .acquiring) }

    /// Guards the calling thread until ``unguardCurrentThread()``; installs the handler the first
    /// time. Returns `false` when no slot is free (more than ``maximumThreads`` guarded at once).
    @discardableResult
    public static func guardCurrentThread() -> Bool {
        installOnce
        let thread = pthread_self()
        for slot in guardedThreads.indices {
            if guardedThreads[slot].compareExchange(expected: 0, desired: thread, ordering: .acquiringAndReleasing).exchanged { return true }
        }
        return false
    }

    public static func unguardCurrentThread() {
        let thread = pthread_self()
        for slot in guardedThreads.indices {
            _ = guardedThreads[slot].compareExchange(expected: thread, desired: 0, ordering: .acquiringAndReleasing)
        }
    }

    /// Threads that can be guarded at once (the agent has one journal reader).
    public static var maximumThreads: Int { guardedThreads.count }

    // MARK: - Signal handling (async-signal-safe: atomics, pthread_self, which reads the thread pointer, mmap, sigaction)

    private static let faultCount = Atomic<Int>(0)
    /// The guarded threads' ids, 0 for a free slot.
    private static let guardedThreads = InlineArray<8, Atomic<UInt>> { _ in Atomic(0) }
    private static let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
    /// The handler before ours, called for faults that are not a guarded reader's.
    nonisolated(unsafe) private static var previous = sigaction()

    private static let installOnce: Void = {
        // Touch everything the handler reads, so no lazy initialisation runs inside it.
        _ = guardedThreads[0].load(ordering: .relaxed)
        _ = pageSize
        _ = faultCount.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, info, context in
            JournalFaultGuard.handle(signal: signal, info: info, context: context)
        }
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, &previous)
    }()

    private static func handle(signal: Int32, info: UnsafeMutablePointer<siginfo_t>?, context: UnsafeMutableRawPointer?) {
        let thread = pthread_self()
        var guarded = false
        for slot in guardedThreads.indices where guardedThreads[slot].load(ordering: .relaxed) == thread { guarded = true }
        if guarded, let info, let address = info.pointee._sifields._sigfault.si_addr {
            let page = UInt(bitPattern: address) & ~(pageSize - 1)
            let mapped = mmap(
                UnsafeMutableRawPointer(bitPattern: page), Int(pageSize), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
            if mapped != MAP_FAILED {
                faultCount.add(1, ordering: .releasing)
                return
            }
        }
        // Not a guarded reader's fault (or no page could be laid over it): whoever handled SIGBUS
        // before us decides. A default or ignored disposition is restored, and the fault repeats
        // when the handler returns, ending the process as it would have without us.
        if previous.sa_flags & SA_SIGINFO != 0, let chained = previous.__sigaction_handler.sa_sigaction {
            chained(signal, info, context)
            return
        }
        let handler = previous.__sigaction_handler.sa_handler
        if let handler, UInt(bitPattern: unsafeBitCast(handler, to: Int.self)) > 1 {
            handler(signal)
            return
        }
        var fallback = sigaction()
        sigemptyset(&fallback.sa_mask)
        sigaction(SIGBUS, &fallback, nil)
    }
}
