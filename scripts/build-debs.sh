#!/usr/bin/env bash
# Debian packages of the release binaries: hosttrail-agent, hosttrail-collector and hosttrail-cli.
#
#   build-debs.sh [--version V] [--revision R] [--out DIR] [--bin-dir DIR]
#
#   --version V     upstream version (default: HostTrailVersion.current in
#                   Sources/TrailCore/HostTrailVersion.swift)
#   --revision R    Debian revision (default 1): the packages are version V-R, e.g. 0.1.0-1
#   --out DIR       where the .deb files go (default .build/deb); prints each path it writes
#   --bin-dir DIR   the release binaries (default .build/release, as `make release` builds them)
#
# Writes DIR/hosttrail-agent_V-R_ARCH.deb, hosttrail-collector_V-R_ARCH.deb and
# hosttrail-cli_V-R_ARCH.deb with `dpkg-deb --root-owner-group --build`; nothing is compiled or
# downloaded. The binaries are copied first (a build running meanwhile cannot change them halfway),
# stripped (as dh_strip does) and their $ORIGIN RUNPATH removed (patchelf); Depends come from
# dpkg-shlibdeps on the stripped binaries, raised to libc6 (>= 2.36) when a binary needs
# GLIBC_ABI_DT_RELR (packed relocations, scripts/release-link-flags.sh), a version dpkg-shlibdeps
# does not see because no symbol carries it. Completions (bash, zsh, fish) come from each
# binary's --generate-completion-script, man pages from its --help and its subcommands' (plus
# packaging/debian/BINARY.man), copyright files from packaging/debian/{third-party,licenses}.txt
# for what nm finds linked into each binary.
#
# Layout, maintainer scripts and the choices behind them: packaging/debian/README.md.
# Needs dpkg-dev, binutils and patchelf (scripts/deps.sh installs them). Lintian:
# scripts/lint-debs.sh. Environment: DEB_MAINTAINER ("Name <address>"), SOURCE_DATE_EPOCH
# (default: the time of the checkout's last commit; every timestamp in the packages is this).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DEB="$ROOT/packaging/debian"

version=""
revision=1
out="$ROOT/.build/deb"
bin_dir="$ROOT/.build/release"
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --version) version="${2:?}"; shift 2 ;;
        --revision) revision="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        --bin-dir) bin_dir="${2:?}"; shift 2 ;;
        -h | --help) usage ;;
        *) echo "build-debs: unknown argument $1" >&2; usage ;;
    esac
done

fail() { echo "build-debs: $*" >&2; exit 1; }

upstream="$(sed -n 's/.*static let current *= *"\([^"]*\)".*/\1/p' Sources/TrailCore/HostTrailVersion.swift)"
[ -n "$upstream" ] || fail "no version in Sources/TrailCore/HostTrailVersion.swift"
version="${version:-$upstream}"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || fail "--version $version: not an upstream version (digits first; letters, digits, . + ~)"
[[ "$revision" =~ ^[A-Za-z0-9.+~]+$ ]] || fail "--revision $revision: not a Debian revision"
debversion="$version-$revision"

for tool in dpkg-deb dpkg-shlibdeps dpkg-architecture strip nm readelf patchelf gzip; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/deps.sh (apt-get install dpkg-dev binutils patchelf)"
done
for binary in hosttrail-agent hosttrail-collector hosttrail; do
    [ -x "$bin_dir/$binary" ] || fail "$bin_dir/$binary is missing: build the release binaries first (make release, or make deb)"
done

arch="$(dpkg --print-architecture)"
case "$(readelf -h "$bin_dir/hosttrail" | sed -n 's/^ *Machine: *//p')" in
    *X86-64*) binary_arch=amd64 ;;
    *AArch64*) binary_arch=arm64 ;;
    *) fail "$bin_dir/hosttrail: unknown machine" ;;
esac
[ "$binary_arch" = "$arch" ] || fail "the binaries are $binary_arch, dpkg here is $arch"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"
maintainer="${DEB_MAINTAINER:-HostTrail maintainers <maintainers@hosttrail.example>}"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$ROOT" status --porcelain -- Sources Package.swift 2>/dev/null | head -n 1)"
[ -z "$dirty" ] || commit="$commit, Sources/ changed since"
man_date="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)"
year="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)"

umask 022
work="$(mktemp -d "${TMPDIR:-/tmp}/hosttrail-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/debian" "$work/bin" "$out"
out="$(cd "$out" && pwd)"
# dpkg-shlibdeps reads debian/control and wants the binaries under debian/PACKAGE.
printf 'Source: hosttrail\n\nPackage: hosttrail-agent\nArchitecture: any\n\nPackage: hosttrail-collector\nArchitecture: any\n\nPackage: hosttrail-cli\nArchitecture: any\n' \
    >"$work/src/debian/control"

# The release binaries, copied once: `make release` running meanwhile cannot change them halfway.
for binary in hosttrail-agent hosttrail-collector hosttrail; do
    cp "$bin_dir/$binary" "$work/bin/$binary"
done

# --- man pages from --help ----------------------------------------------------------------------

# swift-argument-parser's --help (stdin) to roff. mode=page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS
# and the list of commands; mode=command: a .SS section for one command (title: its command line).
HELP2ROFF='
function esc(s) { gsub(/\\/, "\\e", s); gsub(/--/, "\\-\\-", s); return s }
function escname(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
function line(s) { if (s ~ /^[.\047]/) s = "\\&" s; print s }
function flush() {
    if (name == "") return
    n++; kind[n] = sec; names[n] = name; descs[n] = desc
    name = ""; desc = ""
}
function render_name(s,    out, i, parts, k) {
    k = split(s, parts, " "); out = ""
    for (i = 1; i <= k; i++)
        out = out (out == "" ? "" : " ") (parts[i] ~ /^\[?</ ? "\\fI" : "\\fB") escname(parts[i]) "\\fR"
    return out
}
BEGIN { sec = ""; para = 0; n = 0; name = ""; desc = "" }
/^OVERVIEW: / { sec = "text"; para = 1; text[para] = substr($0, 11); next }
/^USAGE: / { flush(); sec = "usage"; usage = substr($0, 8); next }
/^(OPTIONS|ARGUMENTS|SUBCOMMANDS):$/ { flush(); sec = substr($0, 1, length($0) - 1); next }
/^  See \047.* help / { next }
/^[[:space:]]*$/ {
    if (sec == "text") { para++; text[para] = "" }
    else if (sec == "usage") sec = ""
    else flush()
    next
}
{
    if (sec == "text") { text[para] = text[para] (text[para] == "" ? "" : " ") $0; next }
    if (sec == "usage") { t = $0; sub(/^ +/, "", t); usage = usage " " t; next }
    if (sec == "OPTIONS" || sec == "ARGUMENTS" || sec == "SUBCOMMANDS") {
        if ($0 ~ /^  [^ ]/) {
            flush()
            # Names take columns 3-25 and descriptions start at column 27; a longer name has its
            # description on the next lines.
            rest = substr($0, 3); at = index(rest, "  ")
            if (at > 0 && at <= 24) { name = substr(rest, 1, at - 1); desc = substr(rest, at); sub(/^ +/, "", desc) }
            else if (length($0) > 26 && substr($0, 26, 1) == " " && substr($0, 27, 1) !~ /[ <[-]/) {
                name = substr($0, 3, 23); desc = substr($0, 27)
            } else { name = rest; sub(/ +$/, "", name); desc = "" }
        } else { t = $0; sub(/^ +/, "", t); desc = desc (desc == "" ? "" : " ") t }
        next
    }
    sec = "text"; para = 1; text[para] = $0
}
END {
    flush()
    if (mode == "page") {
        whatis = text[1]; sub(/\.$/, "", whatis)
        print ".SH NAME"
        line(program " \\- " esc(whatis))
        print ".SH SYNOPSIS"
        print ".B " program
        print "[\\fISUBCOMMAND\\fR] [\\fIOPTIONS\\fR]"
        print ".SH DESCRIPTION"
    } else print ".SS \"" escname(title) "\""
    for (p = 1; p <= para; p++) if (text[p] != "") { if (p > 1 || mode != "page") print ".PP"; line(esc(text[p])) }
    if (mode != "page" && usage != "") { print ".PP"; line("\\fBUsage:\\fR " escname(usage)) }
    header = 0
    for (i = 1; i <= n; i++) {
        if (kind[i] == "SUBCOMMANDS") continue
        if (mode != "page" && (names[i] == "--version" || names[i] == "-h, --help")) continue
        if (mode == "page" && !header) { print ".SH OPTIONS"; header = 1 }
        print ".TP"; line(render_name(names[i])); line(esc(descs[i]))
    }
    header = 0
    for (i = 1; i <= n; i++) {
        if (kind[i] != "SUBCOMMANDS") continue
        if (!header) { print (mode == "page" ? ".SH COMMANDS" : ".PP\nCommands:"); header = 1 }
        print ".TP"; line(render_name(names[i])); line(esc(descs[i]))
    }
}'

# The subcommands a --help lists, one name a line ("run (default)" is "run").
subcommands() { awk '/^SUBCOMMANDS:$/ { s = 1; next } s && /^  [a-z]/ { print $1 } s && /^$/ { s = 0 }'; }

# Every command under BINARY ARGS..., depth first, each as a .SS section.
command_sections() {
    local binary="$1"; shift
    local help sub
    help="$(timeout 20 "$binary" "$@" --help)"
    printf '%s\n' "$help" | awk -v mode=command -v title="$(basename "$binary") $*" "$HELP2ROFF"
    for sub in $(printf '%s\n' "$help" | subcommands); do command_sections "$binary" "$@" "$sub"; done
}

# man_page BINARY SECTION: the whole page on stdout.
man_page() {
    local binary="$1" section="$2" name help sub
    name="$(basename "$binary")"
    help="$(timeout 20 "$binary" --help)"
    printf '.\\" %s(%s), written by scripts/build-debs.sh from --help of HostTrail %s.\n' "$name" "$section" "$upstream"
    printf '.TH "%s" "%s" "%s" "HostTrail %s" "HostTrail"\n' "$(printf '%s' "$name" | tr a-z A-Z)" "$section" "$man_date" "$upstream"
    printf '%s\n' "$help" | awk -v mode=page -v program="$name" "$HELP2ROFF"
    for sub in $(printf '%s\n' "$help" | subcommands); do
        command_sections "$binary" "$sub"
    done | awk 'NR == 1 { print ".SH \"COMMAND OPTIONS\"" } { print }'
    cat "$DEB/$name.man"
}

# --- copyright ----------------------------------------------------------------------------------

# The Swift modules linked into a binary: the first identifier of each mangled Swift symbol ($sN...).
linked_modules() {
    nm --defined-only "$1" 2>/dev/null | awk '{ print $3 }' \
        | perl -ne 'if (/^\$s(\d+)/) { my $m = substr($_, 2 + length($1), $1); print "$m\n" if $m =~ /^[A-Za-z_][A-Za-z0-9_]*$/ }' | sort -u
}

# The modules a checkout defines: its targets' names in Package*.swift and the directories under
# Sources/ (where targets declared through variables live).
checkout_modules() {
    cat "$1"/Package*.swift 2>/dev/null \
        | perl -0777 -ne 'while (/\.(?:target|executableTarget|systemLibrary)\s*\(\s*name:\s*"([A-Za-z0-9_]+)"/g) { print "$1\n" }'
    if [ -d "$1/Sources" ]; then find "$1/Sources" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'; fi
}

# copyright_file BINARY: the DEP-5 copyright file for the package of BINARY (unstripped) on stdout.
copyright_file() {
    local binary="$1" modules checkout entry holders license comment used stanza_license
    modules="$(linked_modules "$binary")"
    [ -n "$modules" ] || fail "nm found no Swift modules in $binary"
    cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: HostTrail
Comment: $(basename "$binary") is built with --static-swift-stdlib: the Swift runtime and
 libraries and the Swift packages below are linked into it (found with nm when the package was
 built). Their sources are the Swift toolchain and the packages SwiftPM fetched into
 .build/checkouts of the HostTrail tree. Shared libraries it loads (libc6, libcurl4, zlib,
 libsystemd0, libsqlite3-0, libstdc++6) come from their own packages.

Files: *
Copyright: $year HostTrail contributors
License: Apache-2.0
Comment: The HostTrail tree has no LICENSE file; each source file carries
 SPDX-License-Identifier: Apache-2.0.

Files: swift-toolchain/*
Copyright: Apple Inc. and the Swift project authors
License: Apache-2.0 with Runtime-Library exception
Comment: The Swift standard library and runtime, Dispatch, Synchronization, Foundation
 (FoundationEssentials and, where linked, Foundation and FoundationInternationalization) and
 swift-experimental-string-processing, from the Swift toolchain's static libraries.
EOF
    used=$'Apache-2.0\nApache-2.0 with Runtime-Library exception'
    if printf '%s\n' "$modules" | grep -qx 'FoundationInternationalization\|_FoundationICU'; then
        printf '\nFiles: swift-toolchain/swift-foundation-icu/*\nCopyright: 1991-2024 Unicode, Inc.\nLicense: Unicode-DFS-2016\nComment: ICU code and data, linked with FoundationInternationalization.\n'
        used+=$'\nUnicode-DFS-2016'
    fi
    for checkout in "$ROOT"/.build/checkouts/*/; do
        checkout="$(basename "$checkout")"
        checkout_modules "$ROOT/.build/checkouts/$checkout" | grep -qxF -f - <(printf '%s\n' "$modules") || continue
        entry="$(grep -v '^#' "$DEB/third-party.txt" | awk -F ' *[|] *' -v name="$checkout" '$1 == name')"
        [ -n "$entry" ] || fail "$(basename "$binary") links .build/checkouts/$checkout, which packaging/debian/third-party.txt does not list (add its copyright and license)"
        holders="$(printf '%s' "$entry" | awk -F ' *[|] *' '{ print $2 }')"
        license="$(printf '%s' "$entry" | awk -F ' *[|] *' '{ print $3 }')"
        comment="$(printf '%s' "$entry" | awk -F ' *[|] *' '{ print $4 }')"
        printf '\nFiles: .build/checkouts/%s/*\nCopyright: %s\nLicense: %s\n' "$checkout" "$holders" "$license"
        [ -z "$comment" ] || printf 'Comment: %s\n' "$comment"
        used+=$'\n'"$(printf '%s' "$license" | sed 's/ and /\n/g; s/ or /\n/g')"
    done
    # The standalone license paragraphs the stanzas name.
    printf '%s\n' "$used" | sort -u >"$work/licenses-used"
    grep -v '^#' "$DEB/licenses.txt" | awk -v RS='' -v ORS='\n' -v used="$work/licenses-used" '
        BEGIN { while ((getline names < used) > 0) { k = split(names, list, "\n"); for (i = 1; i <= k; i++) want[list[i]] = 1 } }
        /^License: / { split($0, lines, "\n"); if (substr(lines[1], 10) in want) print "\n" $0 }'
    while IFS= read -r stanza_license; do
        grep -qx "License: $stanza_license" "$DEB/licenses.txt" || fail "packaging/debian/licenses.txt has no paragraph for $stanza_license"
    done <"$work/licenses-used"
}

# --- staging ------------------------------------------------------------------------------------

# install_file MODE SOURCE DESTINATION (relative to the package root $stage)
install_file() { install -D -m "$1" "$2" "$stage/$3"; }
gzip_doc() { mkdir -p "$(dirname "$stage/$2")"; gzip -9n -c "$1" >"$stage/$2"; chmod 0644 "$stage/$2"; }

# stage_common PACKAGE BINARY SECTION: binary, completions, man page and documents.
stage_common() {
    local package="$1" binary="$2" section="$3" doc
    stage="$work/src/debian/$package"
    doc="usr/share/doc/$package"
    mkdir -p "$stage/DEBIAN"

    mkdir -p "$stage/usr/bin"
    # As dh_strip does for executables.
    strip --remove-section=.comment --remove-section=.note -o "$stage/usr/bin/$binary" "$work/bin/$binary"
    patchelf --remove-rpath "$stage/usr/bin/$binary"
    chmod 0755 "$stage/usr/bin/$binary"
    timeout 20 "$stage/usr/bin/$binary" --version >/dev/null || fail "the stripped $binary does not run"

    local shell
    for shell in bash zsh fish; do
        timeout 20 "$stage/usr/bin/$binary" --generate-completion-script "$shell" >"$work/completion.$shell" \
            || fail "$binary --generate-completion-script $shell failed"
        [ -s "$work/completion.$shell" ] || fail "$binary --generate-completion-script $shell wrote nothing"
    done
    # A completion file is sourced, not run: no #! line.
    sed '1{/^#!/d}' "$work/completion.bash" >"$work/completion.bash.sourced"
    install_file 0644 "$work/completion.bash.sourced" "usr/share/bash-completion/completions/$binary"
    install_file 0644 "$work/completion.zsh" "usr/share/zsh/vendor-completions/_$binary"
    install_file 0644 "$work/completion.fish" "usr/share/fish/vendor_completions.d/$binary.fish"

    man_page "$stage/usr/bin/$binary" "$section" >"$work/$binary.$section"
    gzip_doc "$work/$binary.$section" "usr/share/man/man$section/$binary.$section.gz"

    copyright_file "$work/bin/$binary" >"$work/copyright.$package"
    install_file 0644 "$work/copyright.$package" "$doc/copyright"
    cat >"$work/changelog.$package" <<EOF
hosttrail ($debversion) unstable; urgency=medium

  * HostTrail $version, packaged by scripts/build-debs.sh from the release binaries
    (source tree at commit $commit).

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
    gzip_doc "$work/changelog.$package" "$doc/changelog.Debian.gz"
    install_file 0644 "$DEB/$package.README.Debian" "$doc/README.Debian"
    gzip_doc README.md "$doc/README.md.gz"
    if [ -f "$DEB/$package.lintian-overrides" ]; then
        install_file 0644 "$DEB/$package.lintian-overrides" "usr/share/lintian/overrides/$package"
    fi
}

# stage_service COMPONENT (agent, collector): unit, sysusers.d, tmpfiles.d, configuration, scripts.
stage_service() {
    local component="$1" package="hosttrail-$1" script
    # The upstream unit names /usr/share/doc/hosttrail/README.md; the package's documents are
    # under its own name, the README compressed.
    sed "s|^Documentation=file:///usr/share/doc/hosttrail/README.md\$|Documentation=man:$package(8) file:///usr/share/doc/$package/README.md.gz|" \
        "packaging/systemd/$package.service" >"$work/$package.service"
    grep -q "^Documentation=man:$package(8)" "$work/$package.service" || fail "packaging/systemd/$package.service: its Documentation= line changed; update build-debs.sh"
    install_file 0644 "$work/$package.service" "usr/lib/systemd/system/$package.service"
    install_file 0644 "$DEB/$package.sysusers" "usr/lib/sysusers.d/$package.conf"
    install_file 0644 "$DEB/$package.tmpfiles" "usr/lib/tmpfiles.d/$package.conf"
    install_file 0644 "packaging/config/$component.toml" "etc/hosttrail/$component.toml"
    for script in postinst prerm postrm; do
        install_file 0755 "$DEB/$package.$script" "DEBIAN/$script"
    done
}

# The split sysusers.d and tmpfiles.d files say together what the shared ones say.
check_split() {
    local shared="$1" line
    shift
    while IFS= read -r line; do
        cat "$@" | grep -v '^#' | tr -s ' \t' ' ' | grep -qxF "$(printf '%s' "$line" | tr -s ' \t' ' ')" \
            || fail "$shared: \"$line\" is in none of $*; update packaging/debian/"
    done < <(grep -v '^[[:space:]]*\(#\|$\)' "$shared")
}
check_split packaging/sysusers.d/hosttrail.conf "$DEB/hosttrail-agent.sysusers" "$DEB/hosttrail-collector.sysusers"
check_split packaging/tmpfiles.d/hosttrail.conf "$DEB/hosttrail-agent.tmpfiles" "$DEB/hosttrail-collector.tmpfiles"

# finish PACKAGE BINARY: control, conffiles, md5sums, timestamps, and the .deb.
finish() {
    local package="$1" binary="$2" shlibs libc size deb
    (cd "$work/src" && dpkg-shlibdeps -O -e"debian/$package/usr/bin/$binary" 2>"$work/shlibdeps.err") >"$work/shlibs" \
        || { cat "$work/shlibdeps.err" >&2; fail "dpkg-shlibdeps failed on $binary"; }
    shlibs="$(sed -n 's/^shlibs:Depends=//p' "$work/shlibs")"
    [ -n "$shlibs" ] || fail "dpkg-shlibdeps found no dependencies of $binary"
    if readelf -V "$stage/usr/bin/$binary" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
        libc="$(printf '%s' "$shlibs" | sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p')"
        if [ -z "$libc" ] || dpkg --compare-versions "$libc" lt 2.36; then
            shlibs="$(printf '%s' "$shlibs" | sed 's/libc6 (>= [^)]*)/libc6 (>= 2.36)/; s/libc6\(,\|$\)/libc6 (>= 2.36)\1/')"
        fi
    fi

    if [ -d "$stage/etc" ]; then
        (cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
        chmod 0644 "$stage/DEBIAN/conffiles"
    fi
    (cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
        >"$stage/DEBIAN/md5sums"
    chmod 0644 "$stage/DEBIAN/md5sums"

    # As dpkg-gencontrol counts: each file's size in KiB rounded up, 1 for each directory or link.
    size="$(cd "$stage" && find . -path ./DEBIAN -prune -o \( -type f -printf '%s\n' \) -o \( ! -path . -printf '1024\n' \) \
        | awk '{ total += int(($1 + 1023) / 1024) } END { print total }')"
    sed -e "s/@VERSION@/$debversion/" -e "s/@ARCH@/$arch/" -e "s/@MAINTAINER@/$maintainer/" \
        -e "s/@INSTALLED_SIZE@/$size/" -e "s/@SHLIBS@/$shlibs/" "$DEB/$package.control" >"$stage/DEBIAN/control"
    if grep -q '@[A-Z_]*@' "$stage/DEBIAN/control"; then fail "$package: unreplaced fields in control"; fi
    chmod 0644 "$stage/DEBIAN/control"

    find "$stage" -type d -exec chmod 0755 {} +
    find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    deb="$out/${package}_${debversion}_$arch.deb"
    # xz takes most of the time (half a minute for the collector): the three compress at once.
    dpkg-deb --root-owner-group --build "$stage" "$deb" >"$work/dpkg-deb.$package.log" 2>&1 &
    building+=("$!:$package:$deb")
}
building=()

# --- the three packages -------------------------------------------------------------------------

stage_common hosttrail-agent hosttrail-agent 8
stage_service agent
# The responses.d and host-rules.d directories, empty: no response is active after installation.
mkdir -p "$stage/etc/hosttrail/responses.d" "$stage/etc/hosttrail/host-rules.d"
for example in packaging/responses/*.toml; do
    install_file 0644 "$example" "usr/share/doc/hosttrail-agent/examples/responses.d/$(basename "$example")"
done
for dropin in packaging/systemd/responses-*.conf; do
    install_file 0644 "$dropin" "usr/share/doc/hosttrail-agent/examples/systemd/$(basename "$dropin")"
done
gzip_doc docs/responses.md usr/share/doc/hosttrail-agent/responses.md.gz
gzip_doc docs/app-integration.md usr/share/doc/hosttrail-agent/app-integration.md.gz
if [ -f docs/operations.md ]; then gzip_doc docs/operations.md usr/share/doc/hosttrail-agent/operations.md.gz; fi
finish hosttrail-agent hosttrail-agent

stage_common hosttrail-collector hosttrail-collector 8
stage_service collector
# The shipped rules, where the collector's default rules-dir reads them; conffiles like the rest.
rules_dir="$(sed -n 's/^# *rules-dir *= *"\([^"]*\)".*/\1/p' packaging/config/collector.toml)"
[ "$rules_dir" = /etc/hosttrail/rules.d ] || fail "packaging/config/collector.toml: rules-dir is \"$rules_dir\", not /etc/hosttrail/rules.d"
for rule in packaging/rules/*.yml; do
    install_file 0644 "$rule" "etc/hosttrail/rules.d/$(basename "$rule")"
done
gzip_doc docs/rules.md usr/share/doc/hosttrail-collector/rules.md.gz
gzip_doc docs/responses.md usr/share/doc/hosttrail-collector/responses.md.gz
if [ -f docs/operations.md ]; then gzip_doc docs/operations.md usr/share/doc/hosttrail-collector/operations.md.gz; fi
finish hosttrail-collector hosttrail-collector

stage_common hosttrail-cli hosttrail 1
gzip_doc docs/app-integration.md usr/share/doc/hosttrail-cli/app-integration.md.gz
finish hosttrail-cli hosttrail

for job in "${building[@]}"; do
    IFS=: read -r pid package deb <<<"$job"
    wait "$pid" || { cat "$work/dpkg-deb.$package.log" >&2; rm -f "$deb"; fail "dpkg-deb failed on $package"; }
    echo "$deb"
done
