#!/usr/bin/env bash
# The release binaries' link settings (Makefile, `release`).
#
#   release-link-flags.sh         extra `swift build` flags for every release product
#   release-link-flags.sh --foundation-essentials-archive
#                                 the toolchain's static FoundationEssentials archive, which
#                                 Package.swift puts first on the agent's link line (see there)
#
# lld with packed relative relocations (DT_RELR): the agent's ~100k relative relocations take
# 20 KB instead of 2.4 MB, which the loader reads at every start and which then stayed resident;
# with --no-export-dynamic its dynamic symbol table holds what it imports, not every symbol. At a
# steady 10k events/s the agent maps ~2 MiB less (docs/performance.md, "Release binaries: lld and packed relocations").
# A DT_RELR binary needs glibc 2.36 or later to load, so on an older glibc, or without the
# toolchain's lld, nothing is printed and the default linker is used.
#
# With lld, every function is compiled into a section of its own and the agent's code is laid out
# in the order of packaging/hosttrail-agent.order (bench/link_order.py, `make link-order`): the
# functions the agent runs, together at the start of .text, so the pages they share are all it
# keeps resident (docs/performance.md, "Release binaries: code layout"). Names the file lists that a product
# does not have are ignored; functions it does not list keep their place.
set -euo pipefail
if [[ "${1:-}" == --foundation-essentials-archive ]]; then
  resources=$(swift -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["paths"]["runtimeResourcePath"])')
  archive="$resources/../swift_static/linux/libFoundationEssentials.a"
  [[ -f "$archive" ]] && realpath "$archive"
  exit 0
fi
version=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
major=${version%%.*}; minor=${version#*.}; minor=${minor%%.*}
if [[ -n "$version" ]] && (( major > 2 || (major == 2 && minor >= 36) )) && command -v ld.lld >/dev/null 2>&1; then
  flags="-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic"
  flags+=" -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections"
  order="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/packaging/hosttrail-agent.order"
  if [[ -f "$order" ]]; then
    flags+=" -Xlinker --symbol-ordering-file=$order -Xlinker --no-warn-symbol-ordering"
  else
    echo "release-link-flags: no $order: the agent's code is not laid out by use (make link-order)" >&2
  fi
  echo "$flags"
fi
