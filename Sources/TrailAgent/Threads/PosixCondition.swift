// SPDX-License-Identifier: Apache-2.0

import Glibc

/// A mutex with a condition variable, as Foundation's `NSCondition` (not in FoundationEssentials):
/// the spool's writers and its committer thread meet on one.
final class PosixCondition: @unchecked Sendable {
    // @unchecked: the pthread objects are made for use from several threads.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Releases the lock until signalled, then holds it again (callers re-check what they wait for).
    func wait() { pthread_cond_wait(condition, mutex) }
    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }
}
