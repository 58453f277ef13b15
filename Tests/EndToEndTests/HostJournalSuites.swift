// SPDX-License-Identifier: Apache-2.0

import Testing

/// The suites that make SSH activity in the host's own journal or count it there: sshd logs
/// through syslog to journald, and an agent reading the journal sees every test's logins. One
/// suite at a time, so one test's failed logins are never another's burst or brute force.
@Suite(.serialized) enum HostJournalSuites {}
