#!/usr/bin/env bash
# Starts the host services a real Linux host runs and the tests read from, on a machine without
# systemd as PID 1 (CI, containers): journald owning /dev/log, and rsyslog receiving journald's
# forwarded messages and writing /var/log/auth.log, as Debian configures them. Idempotent: a
# service already running is left alone. Runs as root. Recipe: ../shared/reference/test-environment.md §3-4.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
STATE=/run/hosttrail-host-services
as_root mkdir -p "$STATE"

wait_for_socket() {
    for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
    echo "host-services: $1 did not appear" >&2
    return 1
}

# journald: the system instance (no namespace argument).
if ! pgrep -f '^/lib/systemd/systemd-journald$' >/dev/null; then
    # Stale sockets from an earlier run would make the readiness check pass too early.
    as_root rm -f /run/systemd/journal/socket /run/systemd/journal/stdout /run/systemd/journal/dev-log
    as_root setsid /lib/systemd/systemd-journald </dev/null >"$STATE/journald.log" 2>&1 &
    wait_for_socket /run/systemd/journal/socket
    wait_for_socket /run/systemd/journal/dev-log
    echo "host-services: journald started"
fi
# syslog(3) writes to /dev/log; the journald.socket unit links it on a systemd host.
[ "$(readlink /dev/log 2>/dev/null)" = /run/systemd/journal/dev-log ] || as_root ln -sf /run/systemd/journal/dev-log /dev/log

# rsyslog on journald's forwarding socket, writing auth.log like Debian's default rules.
if ! pgrep -f "rsyslogd -n -f $STATE/rsyslog.conf" >/dev/null; then
    as_root rm -f /run/systemd/journal/syslog
    as_root mkdir -p /var/spool/rsyslog
    as_root tee "$STATE/rsyslog.conf" >/dev/null <<'CONF'
module(load="imuxsock" SysSock.Name="/run/systemd/journal/syslog" SysSock.RateLimit.Interval="0")
$FileOwner root
$FileGroup adm
$FileCreateMode 0640
$WorkDirectory /var/spool/rsyslog
*.*;auth,authpriv.none  -/var/log/syslog
auth,authpriv.*         /var/log/auth.log
CONF
    as_root setsid rsyslogd -n -f "$STATE/rsyslog.conf" -i "$STATE/rsyslogd.pid" </dev/null >"$STATE/rsyslogd.log" 2>&1 &
    wait_for_socket /run/systemd/journal/syslog
    echo "host-services: rsyslog started"
fi
# sshd's privilege separation directory and host keys (the tests start sshd themselves on free ports).
as_root mkdir -p /run/sshd
as_root ssh-keygen -A >/dev/null
echo "host-services: ok"
