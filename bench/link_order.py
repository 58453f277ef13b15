#!/usr/bin/env python3
"""Writes packaging/hosttrail-agent.order, the order `make release` lays out the agent's code in.

Usage: bench/link_order.py [--bin-dir DIR] [--out FILE]   (make link-order; needs valgrind)

The release agent is run under callgrind through three workloads like a host's: application
events on the socket shipped to a collector (the defaults of the bench fleet), the same with a
journal of sshd/sudo entries, and the same with a tailed auth.log and no journal. Every function
of the agent that ran, busiest first, is one line of the file; lld's --symbol-ordering-file puts
them together at the start of .text (scripts/release-link-flags.sh).

Why: each page fault on the agent's code maps the 64 KiB around it, so functions that run once
or often but lie scattered across 16 MiB of code keep most of it resident. Laid out together they
share pages (docs/ARCHITECTURE.md, "Release binaries"). A function added since the file was made
is simply laid out where it would have been; regenerate after large changes.
"""
import argparse, collections, json, os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the bench harness: Fleet, UnixHTTPConnection, journal_fixture)

ROOT = run.ROOT

AUTH_TEMPLATES = [
    "sshd[{pid}]: Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6",
    "sshd[{pid}]: Failed password for invalid user admin{n} from 203.0.{a}.{b} port {port} ssh2",
    "sudo:    alice : TTY=pts/{a} ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart app{n}",
    "sshd[{pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
    "useradd[{pid}]: new user: name=svc{n}, UID=20{a}, GID=20{a}, home=/home/svc{n}, shell=/bin/bash, from=/dev/pts/0",
    "su[{pid}]: (to root) alice on pts/{a}",
    "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
    "systemd-logind[{pid}]: New session {n} of user alice.",
]


def write_auth_log(path, lines):
    with open(path, "w") as handle:
        for n in range(lines):
            line = AUTH_TEMPLATES[n % len(AUTH_TEMPLATES)].format(pid=1000 + n, a=n % 250, b=n % 200, port=1024 + n, n=n)
            stamp = f"2026-11-24T16:30:{n % 60:02d}.{n:06d}+00:00 web-1" if n % 2 else f"Nov 24 16:30:{n % 60:02d} web-1"
            handle.write(f"{stamp} {line}\n")


def workload(bin_dir, agent_arguments, expected_from_sources):
    """Application events (single and batched, read-only and not) on the socket while the agent
    also reads its sources; waits until the collector stored everything, then stops the agent."""
    fleet = run.Fleet(bin_dir, agent_arguments=agent_arguments)
    try:
        connection = run.UnixHTTPConnection(fleet.socket)
        sent = 0
        for tick in range(200):
            count = 1 if tick % 3 == 0 else 50
            body = json.dumps({"events": [{"eventSource": "bench.example.com", "eventName": "Steady", "readOnly": i % 2 == 0,
                                           "requestParameters": {"n": sent + i}} for i in range(count)]})
            connection.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            sent += count
            time.sleep(0.05)
        expected = sent + expected_from_sources + 1  # + AgentStarted
        deadline = time.time() + 300
        while fleet.stored() < expected and time.time() < deadline:
            time.sleep(0.5)
        stored = fleet.stored()
        print(f"link-order: {stored} of {expected} records stored", flush=True)
        # A workload that did not run through leaves out the paths it was meant to cover.
        if stored != expected:
            raise SystemExit(f"link-order: the workload stored {stored} records, not {expected}; no order written\n"
                             + open(f"{fleet.dir}/agent.log").read()[-2000:])
        time.sleep(2)  # a few idle rounds of the shipper and the spool
    finally:
        fleet.close()  # SIGTERM: the shutdown path runs too, and callgrind writes its file


def executed_functions(profiles, binary):
    """Self cost of every function of `binary` in the callgrind files (names are mangled)."""
    object_names, function_names = {}, {}
    cost = collections.Counter()

    def name(table, text):
        match = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not match:
            return text
        if match.group(2) is not None:
            table[match.group(1)] = match.group(2)
        return table.get(match.group(1))

    for path in profiles:
        current_object = current_function = None
        after_call = False
        for line in open(path, errors="replace"):
            line = line.rstrip("\n")
            if line.startswith("ob="):
                current_object = name(object_names, line[3:])
            elif line.startswith("fn="):
                current_function = name(function_names, line[3:])
                after_call = False
            elif line.startswith("cob="):
                name(object_names, line[4:])
            elif line.startswith("cfn="):
                name(function_names, line[4:])
            elif line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                if after_call:
                    after_call = False
                    continue
                if current_object and os.path.basename(binary) in current_object:
                    parts = line.split()
                    if len(parts) >= 2:
                        # callgrind marks recursion levels as name'2, name'3
                        cost[re.sub(r"'\d+$", "", current_function)] += int(parts[1])
    return cost


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "release"), help="release binaries (make release)")
    parser.add_argument("--out", default=os.path.join(ROOT, "packaging", "hosttrail-agent.order"))
    arguments = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("link-order: valgrind is needed (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="htorder-")
    try:
        wrapped = os.path.join(work, "bin")
        os.makedirs(wrapped)
        for tool in ("hosttrail", "hosttrail-collector", "hosttrail-loadgen"):
            os.symlink(os.path.join(arguments.bin_dir, tool), os.path.join(wrapped, tool))
        # valgrind reads the symbol table; the DWARF of the release agent only slows it down.
        agent = os.path.join(wrapped, "agent.bin")
        subprocess.run(["objcopy", "--strip-debug", os.path.join(arguments.bin_dir, "hosttrail-agent"), agent], check=True)
        with open(os.path.join(wrapped, "hosttrail-agent"), "w") as wrapper:
            wrapper.write(f'#!/bin/sh\nexec valgrind --tool=callgrind --demangle=no --callgrind-out-file={work}/callgrind.%p '
                          f'"{agent}" "$@"\n')
        os.chmod(os.path.join(wrapped, "hosttrail-agent"), 0o755)

        auth = os.path.join(work, "auth.log")
        write_auth_log(auth, 4000)
        journal = run.journal_fixture(4000)
        print("link-order: socket and shipping", flush=True)
        workload(wrapped, None, 0)
        print("link-order: with a journal", flush=True)
        workload(wrapped, ["--no-tail-files", "--journal-directory", journal, "--read-from", "beginning"], 2000)
        print("link-order: with a tailed auth.log", flush=True)
        workload(wrapped, ["--tail-file", auth, "--read-from", "beginning"], 4000)

        profiles = [os.path.join(work, name) for name in os.listdir(work) if name.startswith("callgrind.")]
        # callgrind writes its file at exit; an agent killed after Fleet's 20 s wait leaves none.
        if len(profiles) != 3:
            raise SystemExit(f"link-order: {len(profiles)} callgrind profiles for 3 workloads; no order written")
        cost = executed_functions(profiles, agent)
        # Only names the linker can find: callgrind names code without a symbol by its address.
        symbols = set()
        for line in subprocess.run(["nm", "--defined-only", agent], capture_output=True, text=True, check=True).stdout.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[1] in "tTwW":
                symbols.add(fields[2])
        ordered = [function for function, _ in cost.most_common() if function in symbols]
        with open(arguments.out, "w") as handle:
            handle.write("\n".join(ordered) + "\n")
        print(f"link-order: {len(ordered)} functions ({len(cost) - len(ordered)} without a symbol left out) → "
              f"{os.path.relpath(arguments.out, ROOT)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
