#!/usr/bin/env bash
# Installs what building, checking and testing the Debian packages needs (scripts/build-debs.sh,
# scripts/lint-debs.sh, scripts/debian-root.sh, DebianPackageTests), on Debian 12. Idempotent:
# a second run installs nothing. Runs as root (or with sudo).
set -euo pipefail

APT_PACKAGES=(dpkg-dev binutils patchelf lintian man-db debootstrap zstd systemd)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deb-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root timeout 600 apt-get update -qq
    as_root timeout 900 apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deb-deps: ok"
