// SPDX-License-Identifier: Apache-2.0
// libsystemd as Swift sees it. Swift cannot call C variadic functions, so every variadic entry
// point HostTrail uses gets a typed `static inline` wrapper here (sd_journal_send(3), sd_notifyf(3)).
#ifndef HOSTTRAIL_CSYSTEMD_SHIM_H
#define HOSTTRAIL_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/// sd_journal_send(3) with a message, a priority and a syslog identifier: the fields the agent
/// sets when it writes to the journal itself.
static inline int csystemd_journal_send_message(const char *message, int priority, const char *identifier) {
    return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%i", priority, "SYSLOG_IDENTIFIER=%s", identifier, NULL);
}

/// sd_notifyf(3) with one preformatted state string; sd_notify(3) itself is not variadic.
static inline int csystemd_notify_status(int unset_environment, const char *status) {
    return sd_notifyf(unset_environment, "STATUS=%s", status);
}

#endif
