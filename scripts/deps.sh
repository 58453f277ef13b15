#!/usr/bin/env bash
# Installs everything HostTrail's build, tests, demo and benchmarks need, on Debian 12.
# Idempotent: a second run installs nothing and takes a second or two. Runs as root (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    # build: the two C libraries (system-library targets), zlib for gzip, SQLite for GRDB
    pkg-config libsystemd-dev libcurl4-openssl-dev zlib1g-dev libsqlite3-dev
    # tests and demo: curl over the socket, openssl, systemd-analyze/sysusers, sqlite3
    curl openssl ca-certificates systemd sqlite3 iproute2 procps binutils
    # later sources and their tests: journald, rsyslog, sshd, sudo, PostgreSQL, journal-remote baseline
    rsyslog logrotate openssh-server sshpass sudo postgresql systemd-journal-remote
    # host responses: nftables (block-address) in network namespaces the tests make
    nftables
    # make deb and its test: dpkg-shlibdeps, patchelf, lintian, man pages, a debootstrap root (zstd cache)
    dpkg-dev patchelf lintian man-db debootstrap zstd
)
PIP_PACKAGES=("awscli==1.45.11" "boto3" "moto[server]==5.2.1")
# make bench draws its plot with matplotlib; make test does not need it.
if [ "${1:-}" = "--bench" ]; then PIP_PACKAGES+=("matplotlib"); APT_PACKAGES+=(fail2ban python3-systemd); fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
pip_missing=()
for spec in "${PIP_PACKAGES[@]}"; do
    name="${spec%%[*}"; name="${name%%==*}"; version="${spec##*==}"
    # pip show fails for a package that is not installed: that is an answer, not an error.
    installed="$({ "$PYTHON" -m pip show "$name" 2>/dev/null || true; } | sed -n 's/^Version: //p')"
    if [ -z "$installed" ] || { [ "$version" != "$spec" ] && [ "$installed" != "$version" ]; }; then
        pip_missing+=("$spec")
    fi
done
if [ "${#pip_missing[@]}" -gt 0 ]; then
    echo "deps: pip installing ${pip_missing[*]}"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${pip_missing[@]}"
fi

# The hosttrail user and group, from the same sysusers.d file the package ships.
if ! getent group hosttrail >/dev/null || ! getent passwd hosttrail >/dev/null; then
    as_root systemd-sysusers "$PWD/packaging/sysusers.d/hosttrail.conf"
fi

# Event IDs derive from the machine id; containers sometimes have none.
if ! grep -Eq '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null; then
    as_root systemd-machine-id-setup >/dev/null
fi

command -v swift >/dev/null || { echo "deps: swift is not on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
echo "deps: ok"
