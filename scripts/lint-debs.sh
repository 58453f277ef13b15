#!/usr/bin/env bash
# Runs lintian on HostTrail's Debian packages and fails on any error (E:) it reports.
#
#   lint-debs.sh [PACKAGE.deb ...]     (default: every .deb in .build/deb)
#
# Overrides with their reasons are in packaging/debian/*.lintian-overrides; the warnings left
# and why they stay are in packaging/debian/README.md. Prints lintian's report, then a summary
# line: "lint-debs: N errors, N warnings, N overridden".
set -euo pipefail
cd "$(dirname "$0")/.."

command -v lintian >/dev/null || { echo "lint-debs: lintian is missing: run scripts/deps.sh" >&2; exit 1; }
if [ $# -eq 0 ]; then
    shopt -s nullglob
    set -- .build/deb/*.deb
    [ $# -gt 0 ] || { echo "lint-debs: no .deb in .build/deb: run scripts/build-debs.sh (make deb)" >&2; exit 1; }
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
# Informational tags (I:) and overridden ones (O:) shown too; lintian's own exit status is
# replaced by the count below.
timeout 1800 lintian --display-info --show-overrides --fail-on none "$@" 2>&1 | grep -v '^running with root privileges' | tee "$report" || true
errors="$(grep -c '^E: ' "$report" || true)"
warnings="$(grep -c '^W: ' "$report" || true)"
overridden="$(grep -c '^O: ' "$report" || true)"
echo "lint-debs: $errors errors, $warnings warnings, $overridden overridden"
[ "$errors" -eq 0 ]
