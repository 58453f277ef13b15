// SPDX-License-Identifier: Apache-2.0

import Testing

extension Trait where Self == TimeLimitTrait {
    /// The end-to-end suites' hang guard, not a speed check: every wait inside a test has its own
    /// deadline. Their tests are synchronous and run beside one another on the test process's few
    /// threads, and a test's time counts from when it is reported started: a test that takes 3 s
    /// alone measured 78–149 s in full runs on two cores, and one failed a two-minute limit in CI.
    static var endToEnd: Self { .timeLimit(.minutes(10)) }
}
