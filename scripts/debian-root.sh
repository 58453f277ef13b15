#!/usr/bin/env bash
# A clean Debian 12 (bookworm) root file system in DIR, for testing the .deb packages in a chroot
# (scripts/build-debs.sh; Tests/EndToEndTests/DebianPackageTests.swift).
#
#   debian-root.sh [--refresh] [--mirror URL] DIR
#
# The first run bootstraps `debootstrap --variant=minbase bookworm` (installing debootstrap with apt
# when it is missing) and keeps the result as a tarball under $HOSTTRAIL_TEST_CACHE
# (/var/cache/hosttrail-tests); later runs only unpack that tarball. --refresh bootstraps again.
# Each step's time is printed ("debian-root: debootstrap 41.2 s").
#
# DIR must not exist, be empty, or be a root this script made before (it holds
# /.hosttrail-debian-root) with nothing mounted under it: such a root is deleted and made again.
# The host's /etc/resolv.conf is copied in so apt works in the chroot. Nothing is mounted: a caller
# that needs /proc mounts it (mount -t proc proc DIR/proc) and unmounts it afterwards.
# Runs as root. Needs network access to the Debian mirror for the first run only.
set -euo pipefail

SUITE=bookworm
VARIANT=minbase
MIRROR="${HOSTTRAIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="${HOSTTRAIL_TEST_CACHE:-/var/cache/hosttrail-tests}"
MARKER=.hosttrail-debian-root
refresh=0

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --refresh) refresh=1; shift ;;
        --mirror) MIRROR="$2"; shift 2 ;;
        -h | --help) usage ;;
        --*) echo "debian-root: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage
[ "$(id -u)" -eq 0 ] || { echo "debian-root: must run as root (debootstrap, chroot)" >&2; exit 1; }

root="$(realpath -m "$1")"
case "$root" in
    / | /bin | /boot | /dev | /etc | /home | /lib* | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /var)
        echo "debian-root: refusing $root" >&2; exit 1 ;;
esac
arch="$(dpkg --print-architecture)"
tarball="$CACHE_DIR/debian-$SUITE-$VARIANT-$arch.tar.zst"
compressor=zstd
command -v zstd >/dev/null || { tarball="${tarball%.zst}.gz"; compressor=gzip; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
started="$(now)"

# An earlier root of ours is replaced; anything else is left alone.
if [ -e "$root" ] && [ -n "$(ls -A "$root" 2>/dev/null)" ]; then
    if [ ! -e "$root/$MARKER" ]; then
        echo "debian-root: $root exists and is not empty (and is not a root this script made)" >&2
        exit 1
    fi
    if findmnt -rn -o TARGET | grep -q "^$root\(/\|$\)"; then
        echo "debian-root: something is still mounted under $root:" >&2
        findmnt -rn -o TARGET | grep "^$root\(/\|$\)" >&2
        exit 1
    fi
    rm -rf --one-file-system "$root"
fi
mkdir -p "$root" "$CACHE_DIR"

# One bootstrap at a time: two tests starting together share the cache.
exec 9>"$CACHE_DIR/.lock"
flock -w 1800 9 || { echo "debian-root: timed out waiting for $CACHE_DIR/.lock" >&2; exit 1; }

if [ "$refresh" -eq 1 ] || [ ! -s "$tarball" ]; then
    if ! command -v debootstrap >/dev/null; then
        step="$(now)"
        echo "debian-root: installing debootstrap"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
            || { timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
        echo "debian-root: apt-get install debootstrap $(elapsed "$step")"
    fi
    step="$(now)"
    log="$CACHE_DIR/debootstrap-$SUITE.log"
    echo "debian-root: debootstrap --variant=$VARIANT $SUITE from $MIRROR (log: $log)"
    if ! timeout 1800 debootstrap --variant="$VARIANT" --arch="$arch" "$SUITE" "$root" "$MIRROR" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "debian-root: debootstrap failed" >&2
        exit 1
    fi
    echo "debian-root: debootstrap $(elapsed "$step")"
    # Nothing from the bootstrap is kept that a fresh root should not have.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_* 2>/dev/null || true
    printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$root/etc/apt/sources.list"
    : >"$root/$MARKER"
    step="$(now)"
    tar -C "$root" --numeric-owner --xattrs -cf - . | "$compressor" -q >"$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    echo "debian-root: cached as $tarball ($(du -h "$tarball" | cut -f1)) in $(elapsed "$step")"
else
    step="$(now)"
    "$compressor" -dc "$tarball" | tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xf -
    echo "debian-root: unpacked $tarball $(elapsed "$step")"
fi
flock -u 9

cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
echo "debian-root: $root ready in $(elapsed "$started")"
