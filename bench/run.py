#!/usr/bin/env python3
"""HostTrail benchmark harness: release builds, named measures, medians, results as JSON.

Usage: bench/run.py [--quick] [--only NAME ...] [--data-only] [--against BIN_DIR]

Every measure runs its workload several times against freshly started release binaries on
loopback and reports the median; a measure with a baseline (a stock tool doing the same work in
the same run) also reports the ratio. Results go to bench/results/<timestamp>.json and a Markdown
table on stdout. Benchmarks never fail on a number; they fail only when the workload breaks.
"""
import argparse, datetime, functools, http.client, json, os, platform, re, shutil, socket, sqlite3
import resource, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def build(configuration):
    print(f"bench: building {configuration} binaries (not timed)", flush=True)
    if configuration == "release":
        # The binaries `make release` installs (the Swift runtime linked in statically).
        subprocess.run(["make", "--no-print-directory", "release"], cwd=ROOT, check=True)
    else:
        subprocess.run(["swift", "build", "-c", configuration], cwd=ROOT, check=True)
    return subprocess.run(["swift", "build", "-c", configuration, "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


@functools.cache
def metrics_off_default_port(bin_dir):
    """The collector's metrics listener on a free port, not its default 127.0.0.1:9479 (several
    collectors run at once); nothing for a build from before it had one (an --against run)."""
    help_text = subprocess.run([f"{bin_dir}/hosttrail-collector", "run", "--help"], capture_output=True, text=True).stdout
    return ["--metrics-listen", "127.0.0.1:0"] if "--metrics-listen" in help_text else []


class Fleet:
    """A release collector and agent in a temporary directory."""

    def __init__(self, bin_dir, agent_arguments=None, with_collector=True, collector_arguments=None):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="htbench-")
        subprocess.run([f"{bin_dir}/hosttrail", "dev-certs", "--out", f"{self.dir}/certs", "--host", "bench-host"],
                       check=True, capture_output=True)
        self.collector_log = open(f"{self.dir}/collector.log", "w+")
        self.collector = None
        self.url = "https://127.0.0.1:9"  # nothing listens: records stay in the spool
        if with_collector:
            self.collector = subprocess.Popen(
                [f"{bin_dir}/hosttrail-collector"] + metrics_off_default_port(bin_dir) + ["--listen", "127.0.0.1:0", "--data-dir", f"{self.dir}/collector",
                 "--tls-cert", f"{self.dir}/certs/collector.pem", "--tls-key", f"{self.dir}/certs/collector-key.pem",
                 "--client-ca", f"{self.dir}/certs/ca.pem", "--log-level", "notice", "--fleet-reader", "bench-host"] + (collector_arguments or []),
                stdout=self.collector_log, stderr=subprocess.STDOUT)
            self.url = self._wait_for(f"{self.dir}/collector.log", r"listening on (https://127\.0\.0\.1:\d+)")
        self.socket = f"{self.dir}/api.sock"
        self.agent_log = open(f"{self.dir}/agent.log", "w+")
        self.agent = subprocess.Popen(
            [f"{bin_dir}/hosttrail-agent", "--collector", self.url, "--spool-dir", f"{self.dir}/spool",
             "--socket", self.socket, "--ca", f"{self.dir}/certs/ca.pem", "--cert", f"{self.dir}/certs/bench-host.pem",
             "--key", f"{self.dir}/certs/bench-host-key.pem", "--hostname", "bench-host", "--log-level", "warning"]
            + (agent_arguments or ["--no-tail-files"])
            # The host's own journal stays out of every measure that does not read a journal of its own.
            + ([] if "--journal-directory" in (agent_arguments or []) else ["--no-journal"]),
            stdout=self.agent_log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(self.socket):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("agent did not start:\n" + open(f"{self.dir}/agent.log").read())

    def _wait_for(self, log, pattern):
        for _ in range(500):
            match = re.search(pattern, open(log).read())
            if match:
                return match.group(1)
            time.sleep(0.02)
        raise RuntimeError(f"no /{pattern}/ in {log}:\n" + open(log).read())

    def stored(self):
        path = f"{self.dir}/collector/events.sqlite"
        if not os.path.exists(path):
            return 0
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            connection.close()

    def ingest_rate(self, total, timeout=300, clients=4):
        """Events/s from the first of `total` events sent to the socket (loadgen, 100 a request)
        until the last is in the collector's store."""
        base = self.stored()
        started = time.perf_counter()
        loadgen(self.bin, self.socket, total, batch=100, clients=clients)
        deadline = time.time() + timeout
        while self.stored() - base < total:
            if time.time() > deadline:
                raise RuntimeError(f"only {self.stored() - base} of {total} events arrived")
            time.sleep(0.02)
        return total / (time.perf_counter() - started)

    def close(self):
        for process in (self.agent, self.collector):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def loadgen(bin_dir, socket_path, total, batch, clients):
    """Runs the compiled load generator; returns its JSON summary."""
    result = subprocess.run([f"{bin_dir}/hosttrail-loadgen", socket_path, str(total), str(batch), str(clients)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"loadgen failed: {result.stdout} {result.stderr}")
    return json.loads(result.stdout)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure_socket_to_spool(bin_dir, quick):
    """Events/s the socket acknowledges (202 = durably spooled), and p99 request latency."""
    total = 20000 if quick else 200000
    rates, p99s = [], []
    for run in range(3):
        fleet = Fleet(bin_dir)
        try:
            summary = loadgen(bin_dir, fleet.socket, total, batch=100, clients=4)
            rates.append(summary["eventsPerSecond"])
            p99s.append(summary["p99ms"])
        finally:
            fleet.close()
    return [
        {"name": "socket_to_spool_throughput", "unit": "events/s", "median": statistics.median(rates), "runs": rates,
         "baseline": None, "ratio": None, "detail": f"{total} events, 100 per request, 4 clients (hosttrail-loadgen)"},
        {"name": "socket_to_spool_p99_latency", "unit": "ms per request", "median": statistics.median(p99s), "runs": p99s,
         "baseline": None, "ratio": None, "detail": "requests of 100 events"},
    ]


def measure_end_to_end(bin_dir, quick):
    """Events/s from the socket to the collector's store over mTLS with gzip, with 1, 4, 16 and
    64 concurrent socket clients (100 events a request); a fresh agent and collector per cell."""
    total = 2000 if quick else 10000
    cells = (1, 4, 16, 64)
    rates = {clients: [] for clients in cells}
    for run in range(3):
        for clients in cells:
            fleet = Fleet(bin_dir)
            try:
                # loadgen sends TOTAL // CLIENTS per client: whole requests for every client.
                events = max(total, clients * 100) // (clients * 100) * (clients * 100)
                rates[clients].append(fleet.ingest_rate(events, clients=clients))
            finally:
                fleet.close()
    results = [{"name": "end_to_end_throughput", "unit": "events/s", "median": statistics.median(rates[4]), "runs": rates[4],
                "baseline": None, "ratio": None, "detail": f"{total} events, 4 clients, socket to SQLite store over mTLS+gzip"}]
    for clients in cells:
        results.append({"name": f"end_to_end_events_{clients}c", "unit": "events/s", "median": statistics.median(rates[clients]),
                        "runs": rates[clients], "baseline": None, "ratio": None,
                        "detail": f"{max(total, clients * 100) // (clients * 100) * (clients * 100)} events, {clients} socket client(s), 100 a request, to the store"})
    return results


def measure_single_event_requests(bin_dir, quick):
    """Events/s acknowledged with one event per request from 16 concurrent clients (group commit),
    twice a run: with the collector elsewhere (not started: records stay in the spool, as the
    socket → spool path is measured) and with a collector shipping on the same 2 cores."""
    total = 8000 if quick else 48000
    rates = {False: [], True: []}
    for run in range(3):
        for with_collector in (False, True):
            fleet = Fleet(bin_dir, with_collector=with_collector)
            try:
                rates[with_collector].append(loadgen(bin_dir, fleet.socket, total, batch=1, clients=16)["eventsPerSecond"])
            finally:
                fleet.close()
    return [
        {"name": "socket_to_spool_single_event_16_clients", "unit": "events/s", "median": statistics.median(rates[False]),
         "runs": rates[False], "baseline": None, "ratio": None,
         "detail": f"{total} events, 1 per request, 16 clients (hosttrail-loadgen); no collector on this machine"},
        {"name": "socket_to_spool_single_event_16_clients_collector_here", "unit": "events/s",
         "median": statistics.median(rates[True]), "runs": rates[True], "baseline": None, "ratio": None,
         "detail": "the same with a collector shipping on the same cores"},
    ]


def measure_socket_clients(bin_dir, quick):
    """Requests/s, events/s and p50/p99 request latency through the socket at 1, 16 and 64
    concurrent clients, with 1 and 100 events per request: a fresh agent per run, every cell in it."""
    cells = [(clients, batch) for batch in (1, 100) for clients in (1, 4, 16, 64)]
    runs = {cell: [] for cell in cells}
    for run in range(3):
        fleet = Fleet(bin_dir)
        try:
            for clients, batch in cells:
                # Enough requests that every client sends several; batch-1 cells are request-bound.
                total = max(clients * 20, 1000 if quick else 10000) if batch == 1 else (5000 if quick else 100000)
                runs[(clients, batch)].append(loadgen(bin_dir, fleet.socket, total, batch=batch, clients=clients))
        finally:
            fleet.close()
    results = []
    for clients, batch in cells:
        summaries = runs[(clients, batch)]
        events = [summary["eventsPerSecond"] for summary in summaries]
        requests = [value / batch for value in events]
        detail = f"{batch} event(s) per request, {clients} client(s), hosttrail-loadgen"
        for name, unit, values in (
            ("requests", "requests/s", requests), ("events", "events/s", events),
            ("p50", "ms per request", [summary["p50ms"] for summary in summaries]),
            ("p99", "ms per request", [summary["p99ms"] for summary in summaries]),
        ):
            results.append({"name": f"socket_{name}_{clients}c_{batch}e", "unit": unit, "median": statistics.median(values),
                            "runs": values, "baseline": None, "ratio": None, "detail": detail})
    return results


FULL = False

STORE_NAMES = ["ConsoleLogin", "RunCommand", "CreateUser", "DeleteUser", "InstallPackage", "StartUnit", "StopUnit",
               "Login", "Logout", "SessionStart", "SessionEnd", "DeleteInvoice", "CreateInvoice", "GetInvoice",
               "ListInvoices", "UpdateInvoice", "PlaceOrder", "RefundOrder", "Export", "Import"]
STORE_SOURCES = ["sshd.linux", "sudo.linux", "accounts.linux", "dpkg.linux", "systemd.linux", "logind.linux",
                 "billing.example.com", "shop.example.com"]


def store_fixture(bin_dir, total):
    """A collector store of `total` events, written once and cached under bench/data: the schema
    by the collector itself (its migrations), the rows by sqlite3 in one transaction. 20 event
    names, 8 sources, 200 users, 50 hosts, 1,000 addresses, 1,000 resources over 90 days."""
    directory = os.path.join(DATA, f"store-{total}")
    if os.path.exists(os.path.join(directory, "done")):
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    needed = total * 1500
    if shutil.disk_usage(DATA).free < needed * 1.5:
        raise RuntimeError(f"a {total}-event store needs about {needed >> 30} GiB; {shutil.disk_usage(DATA).free >> 30} GiB free")
    fleet = Fleet(bin_dir, with_collector=False)
    try:
        log = open(f"{fleet.dir}/schema.log", "w+")
        collector = subprocess.Popen(
            [f"{bin_dir}/hosttrail-collector"] + metrics_off_default_port(bin_dir) + ["--listen", "127.0.0.1:0", "--data-dir", directory,
             "--tls-cert", f"{fleet.dir}/certs/collector.pem", "--tls-key", f"{fleet.dir}/certs/collector-key.pem",
             "--client-ca", f"{fleet.dir}/certs/ca.pem", "--no-archive"], stdout=log, stderr=subprocess.STDOUT)
        fleet._wait_for(f"{fleet.dir}/schema.log", r"listening on (https://127\.0\.0\.1:\d+)")
        collector.terminate()
        collector.wait(20)
    finally:
        fleet.close()
    connection = sqlite3.connect(os.path.join(directory, "events.sqlite"))
    # One big transaction: a rollback journal writes next to nothing, WAL would write every page
    # twice (the collector's pool puts WAL back when it opens the store).
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("PRAGMA synchronous=OFF")
    start_ms = 1_787_000_000_000
    span_ms = 90 * 86_400_000

    def rows():
        for n in range(total):
            time_ms = start_ms + (n * span_ms) // total
            name, source = STORE_NAMES[n % 20], STORE_SOURCES[(n // 20) % 8]
            user, host, address, resource = f"user{(n * 7) % 200}", f"host-{(n * 13) % 50:02d}", f"10.0.{(n * 17) % 1000 // 250}.{(n * 17) % 250}", f"arn:bench:invoice/{(n * 31) % 1000}"
            event_id = f"{n:08x}-0000-4000-8000-{n:012x}"
            stamp = datetime.datetime.fromtimestamp(time_ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            record = (f'{{"eventCategory":"Management","eventID":"{event_id}","eventName":"{name}","eventSource":"{source}",'
                      f'"eventTime":"{stamp}","eventType":"AwsApiCall","eventVersion":"1.11","readOnly":{"true" if n % 3 == 0 else "false"},'
                      f'"recipientAccountId":"123456789012","resources":[{{"ARN":"{resource}","type":"Invoice"}}],'
                      f'"sourceIPAddress":"{address}","userIdentity":{{"principalId":"1000","type":"LinuxUser","userName":"{user}"}},'
                      f'"additionalEventData":{{"host":{{"hostname":"{host}"}}}}}}')
            yield (event_id, time_ms, name, source, user, host, address, n % 3 == 0, "Management", time_ms, record, event_id, time_ms, resource)

    batch = []
    for row in rows():
        batch.append(row)
        if len(batch) == 50_000:
            _insert_store_rows(connection, batch)
            batch = []
    _insert_store_rows(connection, batch)
    connection.commit()
    connection.close()
    open(os.path.join(directory, "done"), "w").close()
    return directory


def _insert_store_rows(connection, batch):
    connection.executemany(
        "INSERT INTO events (event_id, event_time, event_name, event_source, username, host, source_ip, read_only, event_category, received_at, record)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [row[:11] for row in batch])
    connection.executemany("INSERT INTO event_resources (event_id, event_time, type, name) VALUES (?, ?, 'Invoice', ?)",
                           [row[11:] for row in batch])


def measure_lookup(bin_dir, quick):
    """LookupEvents p50/p99 per attribute (one client) and lookups/s from 16 clients, over a
    store of 100k (quick), 1M, or 10M (`--full`, after checking free disk space) events; the client is Python (http.client over TLS with a client
    certificate, one keep-alive connection per thread), so figures include its parsing."""
    import http.client
    import ssl
    import threading
    total = 100_000 if quick else (10_000_000 if FULL else 1_000_000)
    directory = store_fixture(bin_dir, total)
    fleet = Fleet(bin_dir, with_collector=False)
    log = open(f"{fleet.dir}/lookup-collector.log", "w+")
    collector = subprocess.Popen(
        [f"{bin_dir}/hosttrail-collector"] + metrics_off_default_port(bin_dir) + ["--listen", "127.0.0.1:0", "--data-dir", directory,
         "--tls-cert", f"{fleet.dir}/certs/collector.pem", "--tls-key", f"{fleet.dir}/certs/collector-key.pem",
         "--client-ca", f"{fleet.dir}/certs/ca.pem", "--log-level", "notice", "--no-archive", "--fleet-reader", "bench-host"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        url = fleet._wait_for(f"{fleet.dir}/lookup-collector.log", r"listening on (https://127\.0\.0\.1:\d+)")
        port = int(url.rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=f"{fleet.dir}/certs/ca.pem")
        context.load_cert_chain(f"{fleet.dir}/certs/bench-host.pem", f"{fleet.dir}/certs/bench-host-key.pem")
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"}

        def lookup(connection, attribute):
            body = json.dumps({"LookupAttributes": [attribute], "MaxResults": 50}) if attribute else "{}"
            started = time.perf_counter()
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"lookup {attribute} answered {response.status}: {payload[:300]}")
            return time.perf_counter() - started

        middle = total // 2
        attributes = {
            "none (newest 50)": None,
            "EventName": {"AttributeKey": "EventName", "AttributeValue": "DeleteInvoice"},
            "EventSource": {"AttributeKey": "EventSource", "AttributeValue": "sudo.linux"},
            "Username": {"AttributeKey": "Username", "AttributeValue": "user42"},
            "Host": {"AttributeKey": "Host", "AttributeValue": "host-07"},
            "SourceIPAddress": {"AttributeKey": "SourceIPAddress", "AttributeValue": "10.0.1.17"},
            "ResourceName": {"AttributeKey": "ResourceName", "AttributeValue": "arn:bench:invoice/123"},
            "ResourceType": {"AttributeKey": "ResourceType", "AttributeValue": "Invoice"},
            "ReadOnly": {"AttributeKey": "ReadOnly", "AttributeValue": "true"},
            "EventId": {"AttributeKey": "EventId", "AttributeValue": f"{middle:08x}-0000-4000-8000-{middle:012x}"},
            "EventName, rare": {"AttributeKey": "EventName", "AttributeValue": "NoSuchEvent"},
        }
        results = []
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
        for label, attribute in attributes.items():
            lookup(connection, attribute)  # warm the page cache for this index
            samples = [lookup(connection, attribute) * 1000 for _ in range(40 if quick else 100)]
            results.append({"name": f"lookup_{label.split(' ')[0].lower()}{'_rare' if 'rare' in label else ''}_latency_p50", "unit": "ms",
                            "median": statistics.median(samples), "runs": [statistics.median(samples)], "baseline": None, "ratio": None,
                            "detail": f"{label}, MaxResults 50, {total:,} events, one client"})
            results.append({"name": f"lookup_{label.split(' ')[0].lower()}{'_rare' if 'rare' in label else ''}_latency_p99", "unit": "ms",
                            "median": percentile(samples, 0.99), "runs": [percentile(samples, 0.99)], "baseline": None, "ratio": None,
                            "detail": f"{label}, MaxResults 50, {total:,} events, one client"})
        connection.close()

        rates = []
        for run in range(3):
            counts = [0] * 16
            deadline = time.perf_counter() + (3 if quick else 5)
            choices = [value for value in attributes.values()]

            def client(index):
                own = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
                n = index
                while time.perf_counter() < deadline:
                    lookup(own, choices[n % len(choices)])
                    counts[index] += 1
                    n += 1
                own.close()

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(index,)) for index in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rates.append(sum(counts) / (time.perf_counter() - started))
        results.append({"name": "lookups_per_second_16_clients", "unit": "lookups/s", "median": statistics.median(rates), "runs": rates,
                        "baseline": None, "ratio": None, "detail": f"16 Python threads, every attribute in turn, {total:,} events"})
        return results
    finally:
        collector.terminate()
        collector.wait(20)
        fleet.close()


def rss_kib(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure_steady_rate(bin_dir, quick):
    """At a steady 10k events/s (100-event requests, paced): p99 acknowledgement latency, agent RSS,
    and spool bytes per event (the collector stopped, so everything stays spooled)."""
    seconds = 2 if quick else 5
    p99s, rss, anon, per_event = [], [], [], []
    for run in range(3):
        fleet = Fleet(bin_dir)
        try:
            fleet.collector.terminate()
            fleet.collector.wait(20)
            latencies, samples, anon_samples = [], [], []
            connection = UnixHTTPConnection(fleet.socket)
            started = time.perf_counter()
            sent = 0
            for tick in range(seconds * 100):
                due = started + tick / 100
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                body = json.dumps({"events": [{"eventSource": "bench.example.com", "eventName": "Steady",
                                               "requestParameters": {"n": sent + i}} for i in range(100)]})
                begin = time.perf_counter()
                connection.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                latencies.append(time.perf_counter() - begin)
                if response.status != 202:
                    raise RuntimeError(f"socket answered {response.status}")
                sent += 100
                if tick % 50 == 0:
                    samples.append(rss_kib(fleet.agent.pid))
                    anon_samples.append(rss_kib(fleet.agent.pid, "RssAnon"))
            achieved = sent / (time.perf_counter() - started)
            p99s.append(percentile(latencies, 0.99) * 1000)
            rss.append(statistics.median(samples) / 1024)
            anon.append(statistics.median(anon_samples) / 1024)
            segments = os.path.join(fleet.dir, "spool", "segments")
            on_disk = sum(os.path.getsize(os.path.join(segments, name)) for name in os.listdir(segments))
            per_event.append(on_disk / sent)
            print(f"bench: steady run {run}: {achieved:,.0f} events/s achieved", flush=True)
        finally:
            fleet.close()
    return [
        {"name": "steady_10k_p99_ack_latency", "unit": "ms per 100-event request", "median": statistics.median(p99s), "runs": p99s,
         "baseline": None, "ratio": None, "detail": f"{seconds} s at 100 requests/s"},
        {"name": "steady_10k_agent_rss", "unit": "MiB", "median": statistics.median(rss), "runs": rss,
         "baseline": None, "ratio": None, "detail": "median VmRSS sampled twice a second"},
        {"name": "steady_10k_agent_rss_anon", "unit": "MiB", "median": statistics.median(anon), "runs": anon,
         "baseline": None, "ratio": None, "detail": "RssAnon: the agent's own memory, without shared library pages"},
        {"name": "spool_bytes_per_event", "unit": "bytes", "median": statistics.median(per_event), "runs": per_event,
         "baseline": None, "ratio": None, "detail": "segment bytes / events spooled (application events with host and identity)"},
    ]


def measure_freshness(bin_dir, quick):
    """Freshness: from an application's POST on a host to the event's first appearance in
    LookupEvents, at a steady 5k events/s (50 requests/s of 100 events, paced). The first event of
    each request is a marker; a second thread asks the collector for the newest markers every
    20 ms (client certificate, keep-alive) and notes when each first shows."""
    import ssl
    import threading
    seconds = 3 if quick else 10
    p50s, p99s = [], []
    for run in range(3):
        fleet = Fleet(bin_dir)
        try:
            port = int(fleet.url.rsplit(":", 1)[1])
            context = ssl.create_default_context(cafile=f"{fleet.dir}/certs/ca.pem")
            context.load_cert_chain(f"{fleet.dir}/certs/bench-host.pem", f"{fleet.dir}/certs/bench-host-key.pem")
            posted, posted_wall, seen = {}, {}, {}
            done = threading.Event()

            def watch():
                connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
                headers = {"Content-Type": "application/x-amz-json-1.1",
                           "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"}
                while not done.is_set():
                    # Every page since the oldest marker not seen yet: a slow poll misses nothing.
                    unseen = [posted_wall[marker] for marker in list(posted_wall) if marker not in seen]
                    request = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "FreshnessMarker"}], "MaxResults": 50,
                               "StartTime": int(min(unseen, default=time.time()) - 2)}
                    while True:
                        connection.request("POST", "/", json.dumps(request), headers)
                        page = json.loads(connection.getresponse().read())
                        now = time.perf_counter()
                        for event in page.get("Events", []):
                            seen.setdefault(json.loads(event["CloudTrailEvent"])["requestParameters"]["marker"], now)
                        if not page.get("NextToken"):
                            break
                        request["NextToken"] = page["NextToken"]
                    time.sleep(0.02)

            watcher = threading.Thread(target=watch)
            watcher.start()
            connection = UnixHTTPConnection(fleet.socket)
            started = time.perf_counter()
            for tick in range(seconds * 50):
                delay = started + tick / 50 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                events = [{"eventSource": "bench.example.com", "eventName": "FreshnessMarker", "requestParameters": {"marker": tick}}]
                events += [{"eventSource": "bench.example.com", "eventName": "Load", "requestParameters": {"n": i}} for i in range(99)]
                posted_wall[tick] = time.time()
                posted[tick] = time.perf_counter()
                connection.request("POST", "/v1/events", json.dumps({"events": events}), {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status != 202:
                    raise RuntimeError(f"socket answered {response.status}")
            deadline = time.perf_counter() + 10
            while len(seen) < len(posted) and time.perf_counter() < deadline:
                time.sleep(0.05)
            done.set()
            watcher.join()
            if len(seen) < len(posted):
                raise RuntimeError(f"only {len(seen)} of {len(posted)} markers became visible")
            delays = [(seen[marker] - posted[marker]) * 1000 for marker in posted]
            p50s.append(percentile(delays, 0.5))
            p99s.append(percentile(delays, 0.99))
        finally:
            fleet.close()
    detail = f"{seconds} s at 5k events/s; post on the host's socket to first seen by a LookupEvents poll every 20 ms"
    return [
        {"name": "freshness_p50", "unit": "ms", "median": statistics.median(p50s), "runs": p50s, "baseline": None, "ratio": None, "detail": detail},
        {"name": "freshness_p99", "unit": "ms", "median": statistics.median(p99s), "runs": p99s, "baseline": None, "ratio": None, "detail": detail},
    ]


def cpu_seconds(pid):
    return sum(cpu_split(pid))


def cpu_split(pid):
    """(user, system) CPU seconds of a running process."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def spool_received(bin_dir, spool):
    result = subprocess.run([f"{bin_dir}/hosttrail-agent", "spool", "stats", "--spool-dir", spool], capture_output=True, text=True)
    # Records waiting in the segments (the counters in the state file move only with acknowledgements).
    return json.loads(result.stdout)["pendingRecords"] if result.returncode == 0 else 0


def seconds_until_spooled(bin_dir, fleet, records):
    """Seconds from now until the fleet's agent has `records` records (plus its AgentStarted) in its spool."""
    started = time.perf_counter()
    deadline = time.time() + 300
    while spool_received(bin_dir, f"{fleet.dir}/spool") < records + 1:
        if time.time() > deadline:
            raise RuntimeError(f"the agent did not spool {records} records:\n" + open(f"{fleet.dir}/agent.log").read())
        time.sleep(0.05)
    return time.perf_counter() - started


def measure_auth_log_tail(bin_dir, quick):
    """auth.log tail + parse + spool: lines/s from agent start until every line's record is
    spooled (the collector is not running, so nothing ships), and lines per agent CPU-second."""
    total = 50_000 if quick else 300_000
    directory = tempfile.mkdtemp(prefix="htbench-auth-")
    path = f"{directory}/auth.log"
    templates = [
        "sshd[{pid}]: Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6",
        "sshd[{pid}]: Failed password for invalid user admin{n} from 203.0.{a}.{b} port {port} ssh2",
        "sudo:    alice : TTY=pts/{a} ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart app{n}",
        "sshd[{pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
    ]
    with open(path, "w") as handle:
        for n in range(total):
            line = templates[n % 4].format(pid=1000 + n % 30000, a=n % 250, b=(n // 250) % 250, port=1024 + n % 60000, n=n)
            handle.write(f"2026-11-24T16:30:{n % 60:02d}.{n % 1000000:06d}+00:00 web-1 {line}\n")
    rates, per_cpu, baseline, splits = [], [], [], []
    try:
        for run in range(3):
            fleet = Fleet(bin_dir, agent_arguments=["--tail-file", path, "--read-from", "beginning"], with_collector=False)
            try:
                seconds = seconds_until_spooled(bin_dir, fleet, total)
                rates.append(total / seconds)
                user, system = cpu_split(fleet.agent.pid)
                splits.append((user, system))
                per_cpu.append(total / max(user + system, 0.01))
            finally:
                fleet.close()
            # A peer run that does not deliver every line is not counted (baselines.md); one retry.
            for attempt in range(2):
                try:
                    baseline.append(total / rsyslog_imfile_seconds(path, total, f"{directory}/rsyslog-{run}-{attempt}"))
                    break
                except RuntimeError as error:
                    print(f"bench: rsyslog run not counted: {error}", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    median = statistics.median(rates)
    base = statistics.median(baseline) if baseline else None
    return [
        {"name": "auth_log_tail_parse_spool", "unit": "lines/s", "median": median, "runs": rates,
         "baseline": (f"rsyslog imfile → omfwd TCP (no parsing, no fsync): {base:,.0f} lines/s (runs {', '.join(f'{b:,.0f}' for b in baseline)})"
                      if base else "rsyslog: no run delivered every line"),
         "ratio": median / base if base else None, "detail": f"{total} sshd/sudo lines (RFC 3339), wall time from agent start, fsync on"},
        {"name": "auth_log_lines_per_cpu_second", "unit": "lines per agent CPU-second", "median": statistics.median(per_cpu),
         "runs": per_cpu, "baseline": None, "ratio": None,
         "detail": "the same runs: lines / (user + system CPU of the agent); user + system seconds per run: "
                   + ", ".join(f"{user:.2f} + {system:.2f}" for user, system in splits)
                   + " (system is mostly the kernel copying the records into the page cache)"},
    ]


def rsyslog_forwarder(path, lines, work):
    """rsyslogd tailing `path` with imfile and forwarding every line with omfwd over TCP to a
    counting sink on loopback (../shared/reference/baselines.md, row 3). Returns the rsyslogd
    process, the sink thread and its state (`seen` lines, `last` line's time); the sink stops at
    `lines` lines or after 15 s of silence."""
    import threading
    os.makedirs(f"{work}/work", exist_ok=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    state = {"seen": 0, "last": None}

    def sink():
        listener.settimeout(120)
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            return
        connection.settimeout(15)
        try:
            while state["seen"] < lines:
                chunk = connection.recv(1 << 20)
                if not chunk:
                    break
                state["seen"] += chunk.count(b"\n")
                state["last"] = time.perf_counter()
        except socket.timeout:
            pass
        finally:
            connection.close()
            listener.close()

    thread = threading.Thread(target=sink, daemon=True)
    thread.start()
    with open(f"{work}/rsyslog.conf", "w") as handle:
        handle.write(f'global(workDirectory="{work}/work")\nmodule(load="imfile" mode="inotify")\n'
                     f'input(type="imfile" file="{path}" tag="authlog" facility="authpriv" severity="info" ruleset="out")\n'
                     f'ruleset(name="out") {{ action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp") }}\n')
    process = subprocess.Popen(["rsyslogd", "-n", "-f", f"{work}/rsyslog.conf", "-i", f"{work}/rsyslogd.pid"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, thread, state


def rsyslog_imfile_seconds(path, lines, work):
    """Seconds from starting rsyslogd on the finished file `path` until the sink has `lines` lines."""
    started = time.perf_counter()
    process, thread, state = rsyslog_forwarder(path, lines, work)
    try:
        thread.join(300)
        if state["seen"] < lines:
            raise RuntimeError(f"rsyslog forwarded {state['seen']} of {lines} lines")
        return state["last"] - started
    finally:
        process.terminate()
        process.wait(20)


ROTATING_WRITER = r"""
import os, sys
path, total = sys.argv[1], int(sys.argv[2])
templates = [
    "sshd[{pid}]: Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6",
    "sshd[{pid}]: Failed password for invalid user admin{n} from 203.0.{a}.{b} port {port} ssh2",
    "sudo:    alice : TTY=pts/{a} ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart app{n}",
    "sshd[{pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
]
handle = open(path, "a")
for n in range(total):
    if n % 500 == 0:
        # As syslog daemons do after logrotate's postrotate HUP: reopen when the name is a new file.
        handle.flush()
        try:
            renamed = os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            renamed = True
        if renamed:
            handle.close()
            handle = open(path, "a")
    line = templates[n % 4].format(pid=1000 + n % 30000, a=n % 250, b=(n // 250) % 250, port=1024 + n % 60000, n=n)
    handle.write(f"2026-11-24T16:30:{n % 60:02d}.{n % 1000000:06d}+00:00 web-1 {line}\n")
handle.close()
"""


def write_while_rotating(path, total, work):
    """Appends `total` lines to `path` from a writer process while logrotate renames the file and
    creates a new one every second (the writer reopens it, as a syslog daemon does on HUP);
    returns when the writer is done and the last rotation has run."""
    with open(f"{work}/logrotate.conf", "w") as handle:
        handle.write(f"{path} {{\n  rotate 10000\n  create 0640 root root\n  missingok\n  nocompress\n}}\n")
    writer = subprocess.Popen([sys.executable, "-c", ROTATING_WRITER, path, str(total)])
    rotations = 0
    while writer.poll() is None:
        time.sleep(1)
        subprocess.run(["logrotate", "-f", "-s", f"{work}/logrotate.state", f"{work}/logrotate.conf"], check=True, capture_output=True)
        rotations += 1
    if writer.returncode != 0:
        raise RuntimeError("the writer failed")
    return rotations


def measure_auth_log_rotating(bin_dir, quick):
    """auth.log tail + parse + spool while logrotate rotates the file every second and a writer
    appends to it: lines/s from the first line written until every line's record is spooled,
    checking none is lost or repeated; rsyslog imfile → omfwd under the same writer and rotations."""
    # The Python writer appends ~250k lines/s: 600,000 lines take two or three rotations.
    total = 100_000 if quick else 600_000
    rates, baseline, received, differences = [], [], [], []
    rotations_seen = []
    for run in range(3):
        work = tempfile.mkdtemp(prefix="htbench-rotate-")
        path = f"{work}/auth.log"
        open(path, "w").close()
        try:
            # No collector drains the spool: room for a million records (~1.1 KB each) over the 1 GiB
            # default, or the spool's `block` policy would hold the tail back and look like loss.
            fleet = Fleet(bin_dir, agent_arguments=["--tail-file", path, "--read-from", "beginning", "--file-poll-interval-ms", "50",
                                                    "--spool-max-bytes", str(4 << 30)], with_collector=False)
            try:
                started = time.perf_counter()
                rotations_seen.append(write_while_rotating(path, total, work))
                # Until every line is spooled, or nothing has come for 10 s (then lines were lost:
                # reported in the results, not hidden and not a crash of the harness).
                spooled, last_change, finished_at = -1, time.time(), None
                while time.time() - last_change < 10:
                    now_spooled = spool_received(bin_dir, f"{fleet.dir}/spool") - 1
                    if now_spooled != spooled:
                        spooled, last_change, finished_at = now_spooled, time.time(), time.perf_counter()
                    if spooled >= total:
                        break
                    time.sleep(0.05)
                time.sleep(0.5)
                spooled = spool_received(bin_dir, f"{fleet.dir}/spool") - 1
                rates.append(min(spooled, total) / (finished_at - started))
                differences.append(spooled - total)
            finally:
                fleet.close()
            # rsyslog under the same writer and rotations, into a counting sink.
            shutil.rmtree(work)
            os.makedirs(work)
            open(path, "w").close()
            seconds, count = rsyslog_imfile_rotating(path, total, work)
            baseline.append(count / seconds)
            received.append(count)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    median, base = statistics.median(rates), statistics.median(baseline)
    return [{"name": "auth_log_tail_while_rotating", "unit": "lines/s", "median": median, "runs": rates,
             "baseline": f"rsyslog imfile → omfwd under the same rotations: {base:,.0f} lines/s, {', '.join(f'{r:,}' for r in received)} of {total:,} lines forwarded",
             "ratio": median / base,
             "detail": f"{total} lines appended by a writer while logrotate renames the file every second "
                       f"({statistics.median(rotations_seen):.0f} rotations)"},
            {"name": "auth_log_rotating_records_minus_lines", "unit": "records", "median": statistics.median(differences), "runs": differences,
             "baseline": None, "ratio": None,
             "detail": "records spooled minus lines written in the same runs: 0 is exactly once; below 0 lines were lost, above 0 repeated"}]


def rsyslog_imfile_rotating(path, total, work):
    """rsyslog tailing `path` while the writer and logrotate run: (seconds from the first line
    until the sink went quiet or had every line, lines the sink received)."""
    process, thread, state = rsyslog_forwarder(path, total, work)
    try:
        time.sleep(0.5)  # imfile watching before the first line, as the agent is
        started = time.perf_counter()
        write_while_rotating(path, total, work)
        thread.join(180)
        return (state["last"] or time.perf_counter()) - started, state["seen"]
    finally:
        process.terminate()
        process.wait(20)


DATA = os.path.join(ROOT, "bench", "data")


def journal_fixture(total):
    """A journal of `total` entries written once by systemd-journal-remote and cached under
    bench/data: half sshd/sudo entries the agent turns into records, half kernel and nginx noise
    that journald's matches keep from it (as on a real host, most entries are not audit activity)."""
    directory = os.path.join(DATA, f"journal-{total}")
    if os.path.exists(os.path.join(directory, "done")):
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    templates = [
        ("sshd", 4, "Accepted publickey for deploy from 10.0.{a}.{b} port {port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6"),
        ("kernel", 0, "eth0: renamed from veth{n}"),
        ("sudo", 10, "   alice : TTY=pts/{a} ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart app{n}"),
        ("nginx", 3, "10.0.{a}.{b} - - \"GET /api/v1/items/{n} HTTP/1.1\" 200 512"),
    ]
    start = 1_795_000_000_000_000
    export = []
    for n in range(total):
        identifier, facility, message = templates[n % 4]
        realtime = start + n * 1000
        export.append(
            f"__REALTIME_TIMESTAMP={realtime}\n__MONOTONIC_TIMESTAMP={realtime - 1_700_000_000_000_000}\n"
            f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=bench\n_TRANSPORT=syslog\n_PID={1000 + n % 30000}\n"
            f"SYSLOG_IDENTIFIER={identifier}\nSYSLOG_FACILITY={facility}\nPRIORITY=6\n"
            f"MESSAGE={message.format(a=n % 250, b=(n // 250) % 250, port=1024 + n % 60000, n=n)}\n\n")
    subprocess.run(["/lib/systemd/systemd-journal-remote", "-o", os.path.join(directory, "bench.journal"), "-"],
                   input="".join(export).encode(), check=True, capture_output=True)
    open(os.path.join(directory, "done"), "w").close()
    return directory


def measure_journal_read(bin_dir, quick):
    """journald read + convert + spool: journal entries/s from agent start until every record is
    spooled (no collector), next to `journalctl -o json > /dev/null` over the same journal files."""
    total = 100_000 if quick else 400_000
    records = total // 2
    directory = journal_fixture(total)
    baseline, rates, baseline_cpu, per_cpu, idle = [], [], [], [], []
    for run in range(3):
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["journalctl", "-D", directory, "-o", "json", "--no-pager"], stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        baseline.append(total / (time.perf_counter() - started))
        baseline_cpu.append(total / max(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 0.001))
        fleet = Fleet(bin_dir, agent_arguments=["--no-tail-files", "--journal-directory", directory, "--read-from", "beginning"],
                      with_collector=False)
        try:
            rates.append(total / seconds_until_spooled(bin_dir, fleet, records))
            per_cpu.append(total / max(cpu_seconds(fleet.agent.pid), 0.001))
            # Caught up, following a journal nothing is written to: what it costs to wait.
            time.sleep(0.5)
            before, started = cpu_seconds(fleet.agent.pid), time.perf_counter()
            time.sleep(3)
            idle.append(100 * (cpu_seconds(fleet.agent.pid) - before) / (time.perf_counter() - started))
        finally:
            fleet.close()
    median, base = statistics.median(rates), statistics.median(baseline)
    cpu_median, cpu_base = statistics.median(per_cpu), statistics.median(baseline_cpu)
    return [
        {"name": "journal_read_convert_spool", "unit": "journal entries/s", "median": median, "runs": rates,
         "baseline": f"journalctl -o json > /dev/null: {base:,.0f} entries/s (runs {', '.join(f'{b:,.0f}' for b in baseline)})",
         "ratio": median / base,
         "detail": f"{total} entries ({records} sshd/sudo → records, the rest kernel/nginx filtered by journald matches); "
                   "wall time from agent start until every record is fsync'd in the spool"},
        {"name": "journal_entries_per_cpu_second", "unit": "journal entries per CPU-second", "median": cpu_median, "runs": per_cpu,
         "baseline": f"journalctl -o json: {cpu_base:,.0f} entries per CPU-second (runs {', '.join(f'{b:,.0f}' for b in baseline_cpu)})",
         "ratio": cpu_median / cpu_base,
         "detail": "the same runs: entries / (user + system CPU); the agent's includes its start-up and the shipper retrying an absent collector"},
        {"name": "journal_idle_cpu", "unit": "% of a core", "median": statistics.median(idle), "runs": idle, "baseline": None,
         "ratio": None, "detail": "the same runs, caught up: 3 s following a journal nothing is written to (utime + stime)"},
    ]


def measure_collector_ingest(bin_dir, quick):
    """Collector ingest events/s into SQLite: pre-built gzip batches of 500 records POSTed to
    /v1/records over mTLS by 4 keep-alive Python clients (the archive off, so this is the store),
    next to the sqlite3 command line importing the same rows into the same schema, one transaction
    per 500 rows as the collector commits them."""
    total = 5_000 if quick else 50_000
    per_batch = 500
    batches, rows = ingest_batches(total, per_batch)
    rates, baseline = [], []
    for run in range(3):
        fleet = Fleet(bin_dir, collector_arguments=["--no-archive"])
        try:
            seconds = post_batches(fleet, batches)
            rates.append(total / seconds)
            # The same rows into the same schema with the sqlite3 CLI: a copy of this collector's empty store.
            fleet.collector.terminate()
            fleet.collector.wait(30)
            schema_db = f"{fleet.dir}/import.sqlite"
            source = sqlite3.connect(f"{fleet.dir}/collector/events.sqlite")
            target = sqlite3.connect(schema_db)
            source.backup(target)
            source.close()
            target.execute("DELETE FROM events")
            target.commit()
            target.execute("PRAGMA journal_mode=WAL")
            target.close()
            sql_path = f"{fleet.dir}/inserts.sql"
            with open(sql_path, "w") as handle:
                handle.write("PRAGMA synchronous=FULL;\n")
                for start in range(0, total, per_batch):
                    handle.write("BEGIN;\n")
                    for n, (event_id, time_ms, stamp) in enumerate(rows[start:start + per_batch], start):
                        record = (f'{{"eventID":"{event_id}","eventName":"Ingested","eventSource":"bench.example.com","eventTime":"{stamp}",'
                                  f'"requestParameters":{{"n":{n}}},"sourceIPAddress":"10.0.0.{n % 250}"}}')
                        handle.write(
                            "INSERT INTO events (event_id, event_time, event_name, event_source, username, host, source_ip, read_only, "
                            "access_key_id, event_category, received_at, record, invoking_user) VALUES "
                            f"('{event_id}', {time_ms}, 'Ingested', 'bench.example.com', 'user{n % 200}', 'bench-host', '10.0.0.{n % 250}', "
                            f"NULL, NULL, 'Management', {time_ms}, '{record}', NULL) ON CONFLICT(host, event_id) DO NOTHING;\n")
                    handle.write("COMMIT;\n")
            started = time.perf_counter()
            subprocess.run(["sqlite3", schema_db, f".read {sql_path}"], check=True, stdout=subprocess.DEVNULL)
            baseline.append(total / (time.perf_counter() - started))
        finally:
            fleet.close()
    median, base = statistics.median(rates), statistics.median(baseline)
    return [{"name": "collector_ingest", "unit": "events/s", "median": median, "runs": rates,
             "baseline": f"sqlite3 CLI import of the same rows, 500 a transaction: {base:,.0f} rows/s (runs {', '.join(f'{b:,.0f}' for b in baseline)})",
             "ratio": median / base,
             "detail": f"{total} records in gzip batches of {per_batch}, 4 Python mTLS clients, --no-archive; parse, bind, insert, commit (synchronous=FULL)"}]


def ingest_batches(total, per_batch, writes=False):
    """gzip `{"Records": [...]}` batches of `per_batch` records for /v1/records, and the rows
    (event ID, time ms, eventTime) they hold; `writes`: write calls, every tenth failing (what
    Insights count under every key: fleet, host and user, call and error rate)."""
    import gzip as gzip_module
    base_ms = int(time.time() * 1000) - 3_600_000
    rows = []
    for n in range(total):
        event_id = f"{n:08x}-1111-4000-8000-{n:012x}"
        stamp = datetime.datetime.fromtimestamp((base_ms + n) / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append((event_id, base_ms + n, stamp))
    batches = []
    for start in range(0, total, per_batch):
        records = [
            f'{{"eventVersion":"1.11","eventTime":"{stamp}","eventSource":"bench.example.com","eventName":"Ingested{n % 20 if writes else ""}",'
            f'"eventID":"{event_id}","sourceIPAddress":"10.0.0.{n % 250}","userIdentity":{{"type":"LinuxUser","userName":"user{n % 200}"}},'
            + ('"readOnly":false,' + ('"errorCode":"AccessDenied",' if n % 10 == 0 else '') if writes else '')
            + f'"requestParameters":{{"n":{n}}},"additionalEventData":{{"host":{{"hostname":"bench-host"}}}}}}'
            for n, (event_id, _, stamp) in enumerate(rows[start:start + per_batch], start)]
        batches.append(gzip_module.compress(("{\"Records\":[" + ",".join(records) + "]}").encode(), compresslevel=1))
    return batches, rows


def mtls_connection(fleet):
    """A keep-alive HTTPS connection to the fleet's collector with the bench host's certificate."""
    import ssl
    context = ssl.create_default_context(cafile=f"{fleet.dir}/certs/ca.pem")
    context.load_cert_chain(f"{fleet.dir}/certs/bench-host.pem", f"{fleet.dir}/certs/bench-host-key.pem")
    return http.client.HTTPSConnection("127.0.0.1", int(fleet.url.rsplit(":", 1)[1]), context=context, timeout=60)


def post_batch(connection, batch):
    """POSTs one gzip batch to /v1/records; the status."""
    connection.request("POST", "/v1/records", batch, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    response = connection.getresponse()
    response.read()
    return response.status


def post_batches(fleet, batches, clients=4):
    """POSTs every batch to the fleet's collector over mTLS from `clients` keep-alive threads; seconds taken."""
    import threading
    queue = list(range(len(batches)))
    lock = threading.Lock()
    failures = []

    def client():
        connection = mtls_connection(fleet)
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop()
            status = post_batch(connection, batches[index])
            if status != 200:
                failures.append(status)
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"ingest answered {failures[:3]}")
    return time.perf_counter() - started


def insight_latency(bin_dir):
    """One live Insight: history with past event times, a restart (the collector counts it from
    the store), then a burst in the current minute; the collector logs the time from the minute's
    close to its Insight records committed."""
    import gzip as gzip_module
    flags = ["--no-archive", "--insights-min-history", "60m", "--insights-window-days", "1", "--insights-grace", "0s",
             "--insights-start-minutes", "1"]
    fleet = Fleet(bin_dir, collector_arguments=flags)

    def batch(times, label):
        records = [
            f'{{"eventVersion":"1.11","eventTime":"{datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}",'
            f'"eventSource":"bench.example.com","eventName":"Delete","eventID":"{label:08x}-2222-4000-8000-{n:012x}","readOnly":false,'
            f'"errorCode":"AccessDenied","userIdentity":{{"type":"LinuxUser","userName":"bench"}},'
            f'"additionalEventData":{{"host":{{"hostname":"bench-host"}}}}}}'
            for n, t in enumerate(times)]
        return gzip_module.compress(("{\"Records\":[" + ",".join(records) + "]}").encode(), compresslevel=1)

    try:
        now = int(time.time()) // 60
        history = [minute * 60 + second * 12 for minute in range(now - 90, now) for second in range(5)]
        post_batches(fleet, [batch(history[i:i + 500], i) for i in range(0, len(history), 500)])
        port = fleet.url.rsplit(":", 1)[1]
        fleet.collector.terminate()
        fleet.collector.wait(30)
        fleet.collector = subprocess.Popen(
            [f"{bin_dir}/hosttrail-collector"] + metrics_off_default_port(bin_dir) + ["--listen", f"127.0.0.1:{port}", "--data-dir", f"{fleet.dir}/collector",
             "--tls-cert", f"{fleet.dir}/certs/collector.pem", "--tls-key", f"{fleet.dir}/certs/collector-key.pem",
             "--client-ca", f"{fleet.dir}/certs/ca.pem", "--log-level", "notice"] + flags,
            stdout=fleet.collector_log, stderr=subprocess.STDOUT)
        log = f"{fleet.dir}/collector.log"
        for _ in range(1500):
            if open(log).read().count("Insights resumed from the store") >= 2:
                break
            time.sleep(0.02)
        # The burst inside one minute, started just after it begins.
        time.sleep(61 - time.time() % 60)
        minute = int(time.time()) // 60
        post_batches(fleet, [batch([minute * 60 + n % 50 for n in range(300)], 0xbeef)])
        deadline = time.time() + 150
        while time.time() < deadline:
            match = re.search(r"insights\.latency-ms=(-?\d+).*Insights stored", open(log).read())
            if match:
                return float(match.group(1))
            time.sleep(0.1)
        raise RuntimeError("no Insight was stored:\n" + open(log).read()[-3000:])
    finally:
        fleet.close()


def measure_insights(bin_dir, quick):
    """Insights: their quality on a generated month of a fleet (hosttrail-insights-bench quality:
    1,000 hosts on a daily and weekly rhythm, one burst each at 5x its slot's rate after the first
    week), their cost per key (close of a minute and memory at 100,000 keys), and collector ingest
    with Insights on against off in the same run (write calls, every tenth failing, so every
    record counts under seven keys)."""
    results = []
    hosts = 100 if quick else 1000
    quality = json.loads(subprocess.run([f"{bin_dir}/hosttrail-insights-bench", "quality", str(hosts), "30", "1"], check=True,
                                        capture_output=True, text=True).stdout)
    results.append({"name": "insights_recall", "unit": "share of bursts", "median": quality["recall"], "runs": [quality["recall"]],
                    "baseline": None, "ratio": None,
                    "detail": (f"{hosts} hosts x 30 days ({quality['keyDays']:,.0f} key-days): {quality['detected']} of {quality['bursts']} bursts "
                               f"at 5x found (missed {quality['missed']}), {quality['falseStarts']} false Starts "
                               f"({quality['falseStartsPer1000KeyDays']:.2f} per 1,000 key-days), delay onset to Start median "
                               f"{quality['medianDelayMinutes']:.0f} min, p90 {quality['p90DelayMinutes']:.0f} min; "
                               f"{quality['keyMinutesPerSecond']:,.0f} key-minutes/s; targets recall >= 0.95, <= 1 false Start "
                               "per 1,000 key-days, median delay <= 3 min")})
    results.append({"name": "insights_false_starts", "unit": "per 1,000 key-days", "median": quality["falseStartsPer1000KeyDays"],
                    "runs": [quality["falseStartsPer1000KeyDays"]], "baseline": None, "ratio": None, "detail": "see insights_recall"})
    results.append({"name": "insights_delay", "unit": "minutes (median)", "median": quality["medianDelayMinutes"],
                    "runs": [quality["medianDelayMinutes"]], "baseline": None, "ratio": None,
                    "detail": "from a burst's first minute to the close of the minute that decides its Start (the record follows after the grace)"})
    keys = 10_000 if quick else 100_000
    cost = json.loads(subprocess.run([f"{bin_dir}/hosttrail-insights-bench", "cost", str(keys)], check=True,
                                     capture_output=True, text=True).stdout)
    results.append({"name": "insights_close_minute", "unit": "ms", "median": cost["closeMedianMs"], "runs": [cost["closeMedianMs"], cost["closeP99Ms"]],
                    "baseline": None, "ratio": None,
                    "detail": f"closing one minute for {keys:,} keys (median, then p99 of 120 minutes)"})
    results.append({"name": "insights_memory_per_key", "unit": "bytes", "median": cost["bytesPerKeyFullWeek"],
                    "runs": [cost["bytesPerKeyTwoHours"], cost["bytesPerKeyFullWeek"]], "baseline": None, "ratio": None,
                    "detail": (f"resident bytes per key: {cost['bytesPerKeyTwoHours']:,.0f} after two hours ({keys:,} keys), "
                               f"{cost['bytesPerKeyFullWeek']:,.0f} after a full week (1,000 keys, every hour-of-week slot); "
                               f"100,000 keys at the most: {cost['bytesPerKeyFullWeek'] * 100_000 / 2**20:,.0f} MiB")})
    latency = insight_latency(bin_dir)
    results.append({"name": "insights_record_latency", "unit": "ms", "median": latency, "runs": [latency], "baseline": None, "ratio": None,
                    "detail": "from the moment a minute may close (its end plus --insights-grace 0s) to its Insight records committed: "
                              "90 minutes of history, a restart to count it, then 300 failing write calls in one minute"})
    total = 5_000 if quick else 50_000
    batches, _ = ingest_batches(total, 500, writes=True)
    on, off = [], []
    for run in range(3):
        for arguments, rates in ((["--no-archive"], on), (["--no-archive", "--no-insights"], off)):
            fleet = Fleet(bin_dir, collector_arguments=arguments)
            try:
                rates.append(total / post_batches(fleet, batches))
            finally:
                fleet.close()
    results.append({"name": "collector_ingest_insights", "unit": "events/s", "median": statistics.median(on), "runs": on,
                    "baseline": f"Insights off (--no-insights), same batches, same run: {statistics.median(off):,.0f} events/s (runs {', '.join(f'{r:,.0f}' for r in off)})",
                    "ratio": statistics.median(on) / statistics.median(off),
                    "detail": f"{total} write records (every tenth failing) in gzip batches of 500, 4 mTLS clients, --no-archive; goal: ratio >= 0.95"})
    return results


# bench-quick ships a smaller journal: at ~10k entries/s into the store, 100k took 30 s of its 3 minutes.
JOURNAL_SHIP_QUICK = 40_000


def measure_journal_ship(bin_dir, quick):
    """The journal shipped to a central store: HostTrail (agent reading the journal files →
    mTLS+gzip → collector's SQLite) next to systemd-journal-upload → systemd-journal-remote over
    HTTPS shipping the same journal files; journal entries/s from start until the last is stored."""
    total = JOURNAL_SHIP_QUICK if quick else 400_000
    records = total // 2
    directory = journal_fixture(total)
    rates, baseline = [], []
    for run in range(3):
        fleet = Fleet(bin_dir, agent_arguments=["--no-tail-files", "--journal-directory", directory, "--read-from", "beginning"],
                      collector_arguments=["--no-archive"])
        try:
            started = time.perf_counter()
            deadline = time.time() + 600
            while fleet.stored() < records:
                if time.time() > deadline:
                    raise RuntimeError(f"only {fleet.stored()} of {records} records arrived")
                time.sleep(0.05)
            rates.append(total / (time.perf_counter() - started))
            # The peer, with the same certificates: journal-remote serves TLS (Debian's is built without
            # client-certificate checks), journal-upload verifies it and sends its certificate.
            port = free_port()
            output = f"{fleet.dir}/remote"
            os.makedirs(output)
            remote_log = open(f"{fleet.dir}/remote.log", "w+")
            remote = subprocess.Popen(
                ["/lib/systemd/systemd-journal-remote", f"--listen-https=127.0.0.1:{port}", f"--key={fleet.dir}/certs/collector-key.pem",
                 f"--cert={fleet.dir}/certs/collector.pem", "--split-mode=none", "-o", f"{output}/remote.journal"],
                stdout=remote_log, stderr=subprocess.STDOUT)
            try:
                wait_for_listener(port, remote.pid)
                started = time.perf_counter()
                subprocess.run(
                    ["/lib/systemd/systemd-journal-upload", "-D", directory, f"--url=https://127.0.0.1:{port}",
                     f"--key={fleet.dir}/certs/bench-host-key.pem", f"--cert={fleet.dir}/certs/bench-host.pem",
                     f"--trust={fleet.dir}/certs/ca.pem", "--follow=no", f"--save-state={fleet.dir}/upload.state"],
                    check=True, capture_output=True, timeout=600)
                baseline.append(total / (time.perf_counter() - started))
            finally:
                remote.terminate()
                remote.wait(30)
        finally:
            fleet.close()
    median, base = statistics.median(rates), statistics.median(baseline)
    return [{"name": "journal_to_central_store", "unit": "journal entries/s", "median": median, "runs": rates,
             "baseline": f"systemd-journal-upload → systemd-journal-remote over HTTPS: {base:,.0f} entries/s (runs {', '.join(f'{b:,.0f}' for b in baseline)})",
             "ratio": median / base,
             "detail": f"{total} journal entries read ({records} sshd/sudo become records and are stored in SQLite; journal-upload ships every entry "
                       "and journal-remote writes a journal file); from agent start until the last record is committed"}]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_listener(port, pid, timeout=10):
    """Until `pid` listens on `port` (checked with ss, so a stranger on the port is not mistaken for it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        listing = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
        if f"pid={pid}," in listing:
            return
        time.sleep(0.05)
    raise RuntimeError(f"pid {pid} is not listening on {port}")


def measure_resources(bin_dir, quick):
    """Agent resident memory and CPU at idle, 1k and 10k events/s (100-event requests, paced; the
    collector running, so the agent ships as it goes): median VmRSS and RssAnon, and CPU as a
    share of one core over the window."""
    seconds = 1 if quick else 5
    rates = [0, 1000, 10000]
    rss = {rate: [] for rate in rates}
    anon = {rate: [] for rate in rates}
    cpu = {rate: [] for rate in rates}
    for run in range(3):
        fleet = Fleet(bin_dir)
        try:
            time.sleep(0.5)  # start-up is not idle
            connection = UnixHTTPConnection(fleet.socket)
            for rate in rates:
                requests_per_second = rate // 100
                samples, anon_samples = [], []
                cpu_before, started = cpu_seconds(fleet.agent.pid), time.perf_counter()
                ticks = max(1, requests_per_second) * seconds
                for tick in range(ticks):
                    due = started + tick / max(1, requests_per_second)
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    if requests_per_second:
                        body = json.dumps({"events": [{"eventSource": "bench.example.com", "eventName": "Steady", "requestParameters": {"n": i}}
                                                      for i in range(100)]})
                        connection.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
                        response = connection.getresponse()
                        response.read()
                        if response.status != 202:
                            raise RuntimeError(f"socket answered {response.status}")
                    if tick % max(1, requests_per_second // 2) == 0:
                        samples.append(rss_kib(fleet.agent.pid))
                        anon_samples.append(rss_kib(fleet.agent.pid, "RssAnon"))
                elapsed = max(seconds, time.perf_counter() - started)
                cpu[rate].append(100 * (cpu_seconds(fleet.agent.pid) - cpu_before) / elapsed)
                rss[rate].append(statistics.median(samples) / 1024)
                anon[rate].append(statistics.median(anon_samples) / 1024)
        finally:
            fleet.close()
    results = []
    for rate in rates:
        label = "idle" if rate == 0 else f"{rate // 1000}k"
        detail = f"{seconds} s {'idle' if rate == 0 else f'at {rate} events/s'}, collector running"
        results += [
            {"name": f"agent_rss_{label}", "unit": "MiB", "median": statistics.median(rss[rate]), "runs": rss[rate], "baseline": None,
             "ratio": None, "detail": detail + ", median VmRSS"},
            {"name": f"agent_rss_anon_{label}", "unit": "MiB", "median": statistics.median(anon[rate]), "runs": anon[rate], "baseline": None,
             "ratio": None, "detail": detail + ", RssAnon (without shared library pages)"},
            {"name": f"agent_cpu_{label}", "unit": "% of a core", "median": statistics.median(cpu[rate]), "runs": cpu[rate], "baseline": None,
             "ratio": None, "detail": detail + ", utime + stime"},
        ]
    return results


def write_plot(results, path):
    """A PNG beside the results: ratios against the baselines measured in the same run, and the
    socket's events/s by concurrent clients. Skipped (with a note) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is not installed (scripts/deps.sh --bench installs it); no plot")
        return None
    ratios = [result for result in results if result.get("ratio")]
    scaling = {}
    for result in results:
        match = re.match(r"socket_events_(\d+)c_(\d+)e$", result["name"])
        if match:
            scaling.setdefault(f"socket → spool, {match.group(2)} event(s)/request", []).append((int(match.group(1)), result["median"]))
        match = re.match(r"end_to_end_events_(\d+)c$", result["name"])
        if match:
            scaling.setdefault("socket → collector's store, 100 events/request", []).append((int(match.group(1)), result["median"]))
    panels = [panel for panel in ("ratios", "scaling") if (panel == "ratios" and ratios) or (panel == "scaling" and scaling)]
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.5), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        if panel == "ratios":
            names = [result["name"] for result in ratios]
            axis.barh(names, [result["ratio"] for result in ratios], color="#3b7dd8")
            axis.axvline(1.0, color="black", linewidth=0.8)
            axis.set_xlabel("HostTrail ÷ baseline in the same run (higher is better)")
            axis.set_title("against the stock tools")
        else:
            for label, points in sorted(scaling.items()):
                points.sort()
                axis.plot([clients for clients, _ in points], [value for _, value in points], marker="o", label=label)
            axis.set_xscale("log", base=2)
            axis.set_xlabel("concurrent clients")
            axis.set_ylabel("events/s (acknowledged after fsync / stored)")
            axis.set_title("scaling with concurrent clients")
            axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def measure_archive(bin_dir, quick):
    """The archive: end-to-end ingest events/s with it (log files every second, digests every 5 s)
    and without it (`--no-archive`), in alternating runs; then `hosttrail validate` over the
    archive in MB/s of log file and digest bytes on disk, next to `sha256sum` over the same files,
    and a re-run that remembers what it checked."""
    total = 10000 if quick else 50000
    rates = {False: [], True: []}
    validate_rates, validate_uncompressed, sha_rates, zcat_rates, rerun_seconds, sizes = [], [], [], [], [], []
    for run in range(3):
        for archived in (False, True):
            arguments = ["--log-file-interval", "1s", "--digest-interval", "5s"] if archived else ["--no-archive"]
            fleet = Fleet(bin_dir, collector_arguments=arguments)
            try:
                rates[archived].append(fleet.ingest_rate(total))
                if not archived:
                    continue
                fleet.agent.terminate()
                fleet.agent.wait(20)
                fleet.collector.terminate()  # the final log files and digest
                fleet.collector.wait(120)
                archive = f"{fleet.dir}/collector/archive"
                files = [os.path.join(folder, name) for folder, _, names in os.walk(archive) for name in names if name.endswith(".json.gz")]
                size = sum(os.path.getsize(path) for path in files)
                keys = [os.path.join(f"{fleet.dir}/collector/keys", name) for name in os.listdir(f"{fleet.dir}/collector/keys") if name.endswith(".pub.pem")]
                # --quick with a new state file: every file read (as without it), the hashes kept for the re-run.
                command = [f"{bin_dir}/hosttrail", "validate", "--dir", archive, "--quick", "--state-file", f"{fleet.dir}/state.json"] + sum((["--public-key", key] for key in keys), [])
                begin = time.perf_counter()
                result = subprocess.run(command, capture_output=True, text=True)
                seconds = time.perf_counter() - begin
                if result.returncode != 0:
                    raise RuntimeError(f"validate failed: {result.stdout} {result.stderr}")
                begin = time.perf_counter()
                subprocess.run(["sha256sum"] + files, check=True, stdout=subprocess.DEVNULL)
                sha_seconds = time.perf_counter() - begin
                begin = time.perf_counter()
                subprocess.run(["sh", "-c", 'for f in "$@"; do gzip -dc "$f" | sha256sum; done', "sh"] + files, check=True, stdout=subprocess.DEVNULL)
                zcat_seconds = time.perf_counter() - begin
                begin = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                rerun_seconds.append((time.perf_counter() - begin) * 1000)
                # gzip's trailer holds the uncompressed size (mod 2^32; these files are far smaller).
                uncompressed = 0
                for path in files:
                    with open(path, "rb") as handle:
                        handle.seek(-4, os.SEEK_END)
                        uncompressed += int.from_bytes(handle.read(4), "little")
                validate_rates.append(size / seconds / 1e6)
                validate_uncompressed.append(uncompressed / seconds / 1e6)
                sha_rates.append(size / sha_seconds / 1e6)
                zcat_rates.append(size / zcat_seconds / 1e6)
                sizes.append(size / 1e6)
            finally:
                fleet.close()
    with_archive, without = statistics.median(rates[True]), statistics.median(rates[False])
    validate, sha, zcat = statistics.median(validate_rates), statistics.median(sha_rates), statistics.median(zcat_rates)
    return [
        {"name": "ingest_with_archive", "unit": "events/s", "median": with_archive, "runs": rates[True],
         "baseline": f"--no-archive {without:,.0f} events/s", "ratio": with_archive / without,
         "detail": f"{total} events socket → store over mTLS+gzip, log files every 1 s, digests every 5 s"},
        {"name": "ingest_without_archive", "unit": "events/s", "median": without, "runs": rates[False],
         "baseline": None, "ratio": None, "detail": f"{total} events, --no-archive"},
        {"name": "validate_throughput", "unit": "MB/s", "median": validate, "runs": validate_rates,
         "baseline": f"sha256sum {sha:,.0f} MB/s", "ratio": validate / sha,
         "detail": f"hosttrail validate (every file read) over {statistics.median(sizes):.1f} MB of .json.gz (gunzip + SHA-256 + signatures), MB on disk per second"},
        {"name": "validate_sha256sum", "unit": "MB/s", "median": sha, "runs": sha_rates, "baseline": None, "ratio": None,
         "detail": "sha256sum over the same files (compressed bytes only: less work than a validation)"},
        {"name": "validate_vs_gzip_sha256sum", "unit": "MB/s", "median": validate, "runs": validate_rates,
         "baseline": f"gzip -dc piped to sha256sum {zcat:,.0f} MB/s", "ratio": validate / zcat,
         "detail": "the same work a script would do: each file inflated and hashed, MB on disk per second"},
        {"name": "validate_uncompressed_throughput", "unit": "MB/s", "median": statistics.median(validate_uncompressed),
         "runs": validate_uncompressed, "baseline": None, "ratio": None, "detail": "uncompressed log bytes hashed per second"},
        {"name": "validate_rerun", "unit": "ms", "median": statistics.median(rerun_seconds), "runs": rerun_seconds, "baseline": None,
         "ratio": None, "detail": "hosttrail validate --quick again, unchanged files trusted by path, inode, size and mtime"},
    ]

def bench_rules(directory, webhook=None):
    """100 rules as an operator might load them: a trigger rule (with `webhook`, a dict of its
    settings, when given), 79 patterns of every operator kind that seldom match, and 20 windows
    (event_count, value_count and temporal_ordered over failed logins, sudo and application calls)."""
    os.makedirs(directory, exist_ok=True)
    rules = {"trigger": "match: {detail: {eventName: [Trigger]}}\n" + (
        "actions:\n  - webhook: {" + ", ".join(f"{key}: \"{value}\"" for key, value in webhook.items()) + "}\n" if webhook else "")}
    for i in range(79):
        rules[f"pattern-{i:02d}"] = [
            f"match: {{detail: {{eventSource: [svc{i}.example.com]}}}}",
            f"match: {{detail: {{eventSource: [bench.example.com], eventName: [{{prefix: Delete{i}}}]}}}}",
            f"match: {{detail: {{sourceIPAddress: [{{cidr: 10.{i}.0.0/16}}], errorCode: [{{exists: true}}]}}}}",
            f"match: {{detail: {{userIdentity: {{userName: [{{wildcard: 'admin*{i}'}}]}}}}}}",
            f"match: {{source: [aws.sudo], detail: {{requestParameters: {{command: [{{suffix: /sh{i}}}]}}}}}}",
        ][i % 5] + "\n"
    for j in range(20):
        rules[f"window-{j:02d}"] = [
            "match: {detail: {eventSource: [sshd.linux], errorCode: [{exists: true}]}}\n"
            f"window: {{type: event_count, group-by: [detail.sourceIPAddress], timespan: 10m, condition: {{gte: {20 + j}}}}}\nsuppress: 10m\n",
            "match: {detail: {eventSource: [sshd.linux], errorCode: [{exists: true}]}}\n"
            f"window: {{type: value_count, field: detail.userIdentity.userName, group-by: [detail.sourceIPAddress], timespan: 10m, condition: {{gte: {10 + j}}}}}\n",
            f"match: {{detail: {{eventSource: [bench.example.com], eventName: [Ingested{j}]}}}}\n"
            "window: {type: event_count, group-by: [detail.additionalEventData.host.hostname], timespan: 1m, condition: {gte: 1000}}\n",
            "match: {detail: {eventSource: [sshd.linux, sudo.linux]}}\n"
            "window:\n  type: temporal_ordered\n  group-by: [detail.userIdentity.userName]\n  timespan: 10m\n  events:\n"
            "    - {name: guesses, match: {detail: {errorCode: [AuthFailure]}}, count: 3}\n"
            "    - {name: sudo, match: {detail: {eventSource: [sudo.linux]}}}\n",
        ][j % 4]
    for name, text in rules.items():
        with open(f"{directory}/{name}.yml", "w") as handle:
            handle.write(text)
    return directory


def rule_batches(total, per_batch, triggers_every=0):
    """gzip batches of the mix hosttrail-rules-bench evaluates (application calls, failed SSH logins
    from 200 addresses, sudo), with one Trigger record in every `triggers_every`-th batch; the
    batches and, for each, its trigger's event ID (or None)."""
    import gzip as gzip_module
    base = int(time.time()) - 3600
    batches, triggers = [], []
    for index, start in enumerate(range(0, total, per_batch)):
        records = []
        for n in range(start, start + per_batch):
            stamp = datetime.datetime.fromtimestamp(base + n // 50, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            event_id = f"{n:08x}-3333-4000-8000-{n:012x}"
            host = '"additionalEventData":{"host":{"hostname":"bench-host"}}'
            if n % 10 in (7, 8):
                records.append(f'{{"eventVersion":"1.11","eventTime":"{stamp}","eventSource":"sshd.linux","eventName":"Login","eventID":"{event_id}","errorCode":"AuthFailure",'
                               f'"sourceIPAddress":"198.51.100.{n % 200}","userIdentity":{{"type":"LinuxUser","userName":"user{n % 50}"}},{host}}}')
            elif n % 10 == 9:
                records.append(f'{{"eventVersion":"1.11","eventTime":"{stamp}","eventSource":"sudo.linux","eventName":"RunCommand","eventID":"{event_id}",'
                               f'"userIdentity":{{"type":"LinuxUser","userName":"root","sessionContext":{{"sessionIssuer":{{"userName":"user{n % 50}"}}}}}},'
                               f'"requestParameters":{{"command":"/usr/bin/id"}},{host}}}')
            else:
                records.append(f'{{"eventVersion":"1.11","eventTime":"{stamp}","eventSource":"bench.example.com","eventName":"Ingested{n % 20}","eventID":"{event_id}",'
                               f'"readOnly":false,"sourceIPAddress":"10.0.0.{n % 250}","userIdentity":{{"type":"LinuxUser","userName":"user{n % 200}"}},'
                               f'"requestParameters":{{"n":{n}}},{host}}}')
        trigger = None
        if triggers_every and index % triggers_every == 0:
            trigger = f"{index:08x}-4444-4000-8000-{index:012x}"
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            records[0] = (f'{{"eventVersion":"1.11","eventTime":"{now}","eventSource":"bench.example.com","eventName":"Trigger","eventID":"{trigger}",'
                          '"userIdentity":{"type":"LinuxUser","userName":"bench"},"additionalEventData":{"host":{"hostname":"bench-host"}}}')
        batches.append(gzip_module.compress(("{\"Records\":[" + ",".join(records) + "]}").encode(), compresslevel=1))
        triggers.append(trigger)
    return batches, triggers


def rules_evaluated(fleet):
    """Whether the collector's rules have evaluated every stored record (their saved position)."""
    connection = sqlite3.connect(f"file:{fleet.dir}/collector/events.sqlite?mode=ro", uri=True, timeout=5)
    try:
        newest = connection.execute("SELECT max(rowid) FROM events WHERE event_source != 'rules.hosttrail'").fetchone()[0] or 0
        row = connection.execute("SELECT row FROM rule_position WHERE id = 1").fetchone()
        return row is not None and row[0] >= newest
    finally:
        connection.close()


def paced_post(fleet, batches, interval):
    """POSTs batch i at i x `interval` s from the start (two keep-alive clients taking turns); the
    time each batch's POST began."""
    import threading
    sent = [0.0] * len(batches)
    failures = []
    start = time.time() + 0.5

    def client(offset):
        connection = mtls_connection(fleet)
        for index in range(offset, len(batches), 2):
            delay = start + index * interval - time.time()
            if delay > 0:
                time.sleep(delay)
            sent[index] = time.time()
            status = post_batch(connection, batches[index])
            if status != 200:
                failures.append(status)
                return

    threads = [threading.Thread(target=client, args=(offset,)) for offset in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"ingest answered {failures[:3]}")
    return sent


def measure_rules(bin_dir, quick):
    """Rules: the engine's evaluations per second on one core (hosttrail-rules-bench, 100 rules, 20
    windowed); collector ingest with those 100 rules against none in the same run (and the time
    until every record is evaluated); and, at a steady 5,000 events/s with the 100 rules, the time
    from a record's arrival (its POST) to its webhook request at a receiver on loopback."""
    results = []
    work = tempfile.mkdtemp(prefix="htbench-rules-")
    try:
        directory = bench_rules(f"{work}/rules")
        records = 20_000 if quick else 200_000
        engine = json.loads(subprocess.run([f"{bin_dir}/hosttrail-rules-bench", directory, str(records)], check=True,
                                           capture_output=True, text=True).stdout)
        results.append({"name": "rules_evaluations_per_core", "unit": "evaluations/s", "median": engine["evaluationsPerSecond"],
                        "runs": [engine["evaluationsPerSecond"]], "baseline": None, "ratio": None,
                        "detail": (f"{engine['records']:,} records x {engine['rules']} rules ({engine['windowed']} windowed) on one core: "
                                   f"{engine['evaluateSeconds']:.2f} s evaluating, {engine['parseSeconds']:.2f} s parsing records to envelopes; "
                                   f"{engine['recordsPerSecond']:,.0f} records/s both; {engine['firings']} firings")})
        total = 5_000 if quick else 50_000
        batches, _ = rule_batches(total, 500)
        on, off, evaluated = [], [], []
        for run in range(3):
            for arguments, rates in ((["--no-archive", "--no-insights", "--rules-dir", directory], on),
                                     (["--no-archive", "--no-insights", "--rules-dir", f"{work}/none"], off)):
                fleet = Fleet(bin_dir, collector_arguments=arguments)
                try:
                    began = time.perf_counter()
                    rates.append(total / post_batches(fleet, batches))
                    if rates is on:
                        deadline = time.time() + 120
                        while not rules_evaluated(fleet):
                            if time.time() > deadline:
                                raise RuntimeError("the rules did not catch up within 120 s")
                            time.sleep(0.05)
                        evaluated.append(total / (time.perf_counter() - began))
                finally:
                    fleet.close()
        results.append({"name": "collector_ingest_rules", "unit": "events/s", "median": statistics.median(on), "runs": on,
                        "baseline": f"no rules, same batches, same run: {statistics.median(off):,.0f} events/s (runs {', '.join(f'{r:,.0f}' for r in off)})",
                        "ratio": statistics.median(on) / statistics.median(off),
                        "detail": (f"{total} records (application calls, failed SSH logins, sudo) in gzip batches of 500, 4 mTLS clients, "
                                   f"--no-archive --no-insights, 100 rules (20 windowed); every record evaluated at a median "
                                   f"{statistics.median(evaluated):,.0f} events/s (runs {', '.join(f'{r:,.0f}' for r in evaluated)}); goal: ratio >= 0.9")})

        # Latency: 5,000 events/s (50 a batch every 10 ms), one Trigger record every 20 batches.
        seconds = 10 if quick else 30
        fleet = Fleet(bin_dir, collector_arguments=["--no-archive", "--no-insights", "--rules-dir", f"{work}/latency-rules"])
        receiver = None
        try:
            with open(f"{work}/hook.key", "w") as handle:
                handle.write("bench-secret\n")
            receiver_log = f"{work}/webhooks.jsonl"
            receiver = subprocess.Popen(
                ["python3", f"{ROOT}/Tests/Support/webhook-receiver.py", "--cert", f"{fleet.dir}/certs/collector.pem", "--key",
                 f"{fleet.dir}/certs/collector-key.pem", "--log", receiver_log], stdout=subprocess.PIPE, text=True)
            port = int(receiver.stdout.readline())
            bench_rules(f"{work}/latency-rules", webhook={"url": f"https://127.0.0.1:{port}/hook", "secret-file": f"{work}/hook.key",
                                                          "ca-file": f"{fleet.dir}/certs/ca.pem"})
            fleet.collector.send_signal(signal.SIGHUP)
            fleet._wait_for(f"{fleet.dir}/collector.log", r"rules\.count=(100)")
            batches, triggers = rule_batches(seconds * 5000, 50, triggers_every=20)
            sent = paced_post(fleet, batches, 0.01)
            sent_at = {trigger: sent[index] for index, trigger in enumerate(triggers) if trigger}
            deadline = time.time() + 60
            latencies = []
            while time.time() < deadline:
                latencies = []
                for line in open(receiver_log) if os.path.exists(receiver_log) else []:
                    entry = json.loads(line)
                    import base64
                    body = json.loads(base64.b64decode(entry["body"]))
                    trigger = body["detail"]["requestParameters"]["matchedEvents"][0]["eventID"]
                    if trigger in sent_at:
                        latencies.append((entry["received"] - sent_at[trigger]) * 1000)
                if len(latencies) >= len(sent_at):
                    break
                time.sleep(0.2)
            if len(latencies) < len(sent_at):
                raise RuntimeError(f"only {len(latencies)} of {len(sent_at)} webhooks arrived")
            achieved = len(batches) * 50 / (max(sent) - min(sent))
        finally:
            if receiver:
                receiver.terminate()
                receiver.wait(10)
            fleet.close()
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        results.append({"name": "rules_webhook_latency", "unit": "ms (p99)", "median": p99, "runs": [p50, p99, max(latencies)],
                        "baseline": None, "ratio": None,
                        "detail": (f"from a record's POST to the collector to its webhook request at a receiver on loopback: p50 {p50:.0f} ms, "
                                   f"p99 {p99:.0f} ms, max {max(latencies):.0f} ms over {len(latencies)} webhooks, at {achieved:,.0f} events/s "
                                   f"for {seconds} s with 100 rules (20 windowed); goal p99 <= 1 s")})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def ip(*arguments, check=True):
    return subprocess.run(["ip", *arguments], check=check, capture_output=True, text=True)


def in_namespace(namespace, *argv):
    return ["ip", "netns", "exec", namespace, *argv]


def banned(namespace, address):
    """Which tables of `namespace` hold `address` in a set now: {"hosttrail", "f2b-table"} or fewer."""
    listing = subprocess.run(in_namespace(namespace, "nft", "-j", "list", "sets"), capture_output=True, text=True).stdout
    found = set()
    for item in json.loads(listing or '{"nftables": []}')["nftables"]:
        entry = item.get("set")
        if not entry:
            continue
        for element in entry.get("elem", []):
            value = element.get("elem", {}).get("val") if isinstance(element, dict) else element
            if value == address:
                found.add(entry["table"])
    return found


def measure_responses(bin_dir, quick):
    """Host responses: from the failed SSH login that crosses the threshold (5 in 10 minutes from
    one address: the shipped ssh-brute-force rule, as a host rule on the agent and as a fleet rule
    on the collector, and fail2ban's default sshd jail alike) to the address in the kernel's drop
    set, on the host that saw it (its own rule) and on every host of a fleet of two (the collector's
    rule, hosts: all), with fail2ban 1.0 (Debian's package, systemd backend, nftables) watching the
    same sshd through the same journal in the same run as the baseline. Hosts are network
    namespaces with their own nftables; the collector listens on their bridge; each run attacks
    from a new address."""
    results = []
    work = tempfile.mkdtemp(prefix="htbench-responses-")
    prefix = "htb" + format(os.getpid() % 4096, "x")
    subnet = f"10.232.{os.getpid() % 250 + 1}"
    bridge = f"{prefix}br"
    namespaces = {name: f"{prefix}-{name}" for name in ("h1", "h2", "att")}
    addresses = {"h1": f"{subnet}.11", "h2": f"{subnet}.12", "att": f"{subnet}.13"}
    processes = []
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for index, (name, namespace) in enumerate(namespaces.items()):
            ip("netns", "add", namespace)
            ip("link", "add", f"{prefix}v{index}", "type", "veth", "peer", "name", f"{prefix}p{index}")
            ip("link", "set", f"{prefix}p{index}", "netns", namespace)
            ip("link", "set", f"{prefix}v{index}", "master", bridge, "up")
            ip("-n", namespace, "addr", "add", f"{addresses[name]}/24", "dev", f"{prefix}p{index}")
            ip("-n", namespace, "link", "set", f"{prefix}p{index}", "up")
            ip("-n", namespace, "link", "set", "lo", "up")
        runs = 6 if quick else 25
        attackers = [f"{subnet}.{100 + run}" for run in range(runs)]
        for address in attackers:
            ip("-n", namespaces["att"], "addr", "add", f"{address}/24", "dev", f"{prefix}p2")

        subprocess.run([f"{bin_dir}/hosttrail", "dev-certs", "--out", f"{work}/certs", "--host", "h1", "--host", "h2",
                        "--collector-name", f"{subnet}.1"], check=True, capture_output=True)
        os.makedirs(f"{work}/rules")
        os.makedirs(f"{work}/responses.d")
        os.makedirs(f"{work}/host-rules.d")
        # The shipped ssh-brute-force rule as a host rule (JSON: the agent links no YAML parser).
        with open(f"{work}/host-rules.d/ssh-brute-force.json", "w") as handle:
            json.dump({"name": "ssh-brute-force-here",
                       "match": {"detail": {"eventSource": ["sshd.linux"], "eventName": ["Login"], "errorCode": [{"exists": True}]}},
                       "window": {"type": "event_count", "group-by": ["detail.sourceIPAddress"], "timespan": "10m", "condition": {"gte": 5}},
                       "suppress": "10m",
                       "actions": [{"respond": {"response": "block", "arguments": {"address": "detail.sourceIPAddress"}}}]}, handle)
        rule = open(f"{ROOT}/packaging/rules/ssh-brute-force.yml").read()
        with open(f"{work}/rules/ssh-brute-force.yml", "w") as handle:
            handle.write(rule + "actions:\n  - respond: {response: block, hosts: all, arguments: {address: detail.sourceIPAddress}}\n")
        with open(f"{work}/responses.d/block.toml", "w") as handle:
            handle.write('kind = "block-address"\ndefault-duration = "10m"\nmax-duration = "1h"\n')

        def start(argv, log):
            process = subprocess.Popen(argv, stdout=open(f"{work}/{log}", "w"), stderr=subprocess.STDOUT)
            processes.append(process)
            return process

        collector = start([f"{bin_dir}/hosttrail-collector"] + metrics_off_default_port(bin_dir) + ["--listen", f"{subnet}.1:0", "--data-dir", f"{work}/collector",
                           "--tls-cert", f"{work}/certs/collector.pem", "--tls-key", f"{work}/certs/collector-key.pem",
                           "--client-ca", f"{work}/certs/ca.pem", "--no-archive", "--no-insights", "--rules-dir", f"{work}/rules",
                           "--log-level", "notice"], "collector.log")
        url = None
        for _ in range(500):
            match = re.search(r"listening on (https://[0-9.]+:\d+)", open(f"{work}/collector.log").read())
            if match:
                url = match.group(1)
                break
            if collector.poll() is not None:
                break
            time.sleep(0.02)
        if not url:
            raise RuntimeError("collector did not start:\n" + open(f"{work}/collector.log").read())
        # sshd on h1 logs to the host's journal, where both HostTrail's agent and fail2ban read it.
        start(in_namespace(namespaces["h1"], "/usr/sbin/sshd", "-D", "-p", "22", "-o", f"ListenAddress={addresses['h1']}",
                           "-o", "PidFile=none", "-o", "PasswordAuthentication=yes", "-o", "MaxStartups=200",
                           "-o", "LoginGraceTime=20"), "sshd.log")
        for host in ("h1", "h2"):
            # h2 takes requests only: its agent must not read h1's sshd lines from the shared journal.
            sources = ["--read-from", "end", "--host-rules-dir", f"{work}/host-rules.d"] if host == "h1" else ["--no-journal"]
            start(in_namespace(namespaces[host], f"{bin_dir}/hosttrail-agent", "--collector", url, "--spool-dir", f"{work}/spool-{host}",
                               "--socket", f"{work}/{host}.sock", "--ca", f"{work}/certs/ca.pem", "--cert", f"{work}/certs/{host}.pem",
                               "--key", f"{work}/certs/{host}-key.pem", "--no-tail-files", "--responses-dir", f"{work}/responses.d",
                               "--log-level", "notice", *sources), f"agent-{host}.log")
        # fail2ban: Debian's configuration, the sshd jail on the systemd backend, banning with nftables.
        shutil.copytree("/etc/fail2ban", f"{work}/fail2ban")
        with open(f"{work}/fail2ban/fail2ban.local", "w") as handle:
            handle.write(f"[Definition]\nsocket = {work}/f2b.sock\npidfile = {work}/f2b.pid\nlogtarget = {work}/f2b.log\n"
                         "dbfile = :memory:\n")
        with open(f"{work}/fail2ban/jail.local", "w") as handle:
            handle.write("[DEFAULT]\nbanaction = nftables-multiport\nbanaction_allports = nftables-allports\n\n"
                         "[sshd]\nenabled = true\nbackend = systemd\nmaxretry = 5\nfindtime = 10m\nbantime = 10m\nport = 22\n")
        start(in_namespace(namespaces["h1"], "fail2ban-server", "-f", "-x", "-c", f"{work}/fail2ban"), "fail2ban-server.log")
        deadline = time.time() + 60
        while subprocess.run(["fail2ban-client", "-c", f"{work}/fail2ban", "status", "sshd"], capture_output=True).returncode != 0:
            if time.time() > deadline:
                raise RuntimeError("fail2ban did not start:\n" + open(f"{work}/fail2ban-server.log").read())
            time.sleep(0.1)
        deadline = time.time() + 60
        while "h2" not in subprocess.run(["sqlite3", f"file:{work}/collector/events.sqlite?mode=ro", "SELECT host FROM response_hosts"],
                                         capture_output=True, text=True).stdout:
            if time.time() > deadline:
                raise RuntimeError("agents did not poll for responses")
            time.sleep(0.1)

        def attempt(address):
            return in_namespace(namespaces["att"], "sshpass", "-p", "wrong", "ssh", "-b", address, "-o", "StrictHostKeyChecking=no",
                                "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
                                "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=5",
                                "-o", "LogLevel=ERROR", f"nobody@{addresses['h1']}", "true")

        def failures_logged(address):
            """When journald received each of sshd's failed-password lines for `address` (seconds, its clock)."""
            output = subprocess.run(["journalctl", "-o", "json", "--since", "-300s", "_COMM=sshd"], capture_output=True, text=True).stdout
            times = []
            for line in output.splitlines():
                entry = json.loads(line)
                message = entry.get("MESSAGE")
                if isinstance(message, str) and f"Failed password for nobody from {address} " in message:
                    times.append(int(entry["__REALTIME_TIMESTAMP"]) / 1e6)
            return sorted(times)

        local, fleet, fail2ban, early = [], [], [], 0
        for address in attackers:
            for _ in range(4):
                subprocess.run(attempt(address), capture_output=True, timeout=30)
            if banned(namespaces["h1"], address):
                early += 1  # banned before the threshold: not comparable
            fifth = subprocess.Popen(attempt(address), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seen = {}
            deadline = time.time() + 30
            # From before the 5th attempt: its line is logged, and may be acted on, before its client ends.
            while len(seen) < 3 and time.time() < deadline:
                now = time.time()
                on_h1 = banned(namespaces["h1"], address)
                if "hosttrail" in on_h1:
                    seen.setdefault("local", now)
                if "f2b-table" in on_h1:
                    seen.setdefault("fail2ban", now)
                if "hosttrail" in banned(namespaces["h2"], address):
                    seen.setdefault("h2", now)
                time.sleep(0.003)
            fifth.wait(30)
            if len(seen) < 3:
                raise RuntimeError(f"{address}: only {sorted(seen)} banned within 30 s")
            logged = failures_logged(address)
            if len(logged) < 5:
                raise RuntimeError(f"{address}: {len(logged)} failures in the journal")
            crossed = logged[4]
            local.append((seen["local"] - crossed) * 1000)
            fleet.append((max(seen["local"], seen["h2"]) - crossed) * 1000)
            fail2ban.append((seen["fail2ban"] - crossed) * 1000)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for namespace in namespaces.values():
            for pid in subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ip("netns", "delete", namespace, check=False)
        for index in range(len(namespaces)):
            ip("link", "delete", f"{prefix}v{index}", check=False)
        ip("link", "delete", bridge, check=False)
        shutil.rmtree(work, ignore_errors=True)

    def summary(values):
        return f"p50 {percentile(values, 0.5):.0f} ms, p99 {percentile(values, 0.99):.0f} ms, max {max(values):.0f} ms"

    baseline = f"fail2ban 1.0 (systemd backend, nftables-multiport), same sshd and journal, same run: {summary(fail2ban)}"
    common = (f"{len(local)} attacks, each 5 failed password logins from a new address; from journald's receipt of the 5th "
              f"failure to the address in the drop set (nft -j list sets in each namespace, polled every ~15 ms); "
              f"{early} runs had a ban before the 5th failure")
    results.append({"name": "response_local_host", "unit": "ms (p99)", "median": percentile(local, 0.99),
                    "runs": [percentile(local, 0.5), percentile(local, 0.99), max(local)], "baseline": baseline,
                    "ratio": percentile(local, 0.5) / percentile(fail2ban, 0.5),
                    "detail": (f"the host that saw the failures, by its own rule on its agent (journal, spool, host rule, nft): {summary(local)}; "
                               f"{common}; ratio = p50 / fail2ban's p50; goal <= fail2ban's")})
    results.append({"name": "response_fleet_wide", "unit": "ms (p99)", "median": percentile(fleet, 0.99),
                    "runs": [percentile(fleet, 0.5), percentile(fleet, 0.99), max(fleet)], "baseline": baseline,
                    "ratio": percentile(fleet, 0.5) / percentile(fail2ban, 0.5),
                    "detail": (f"both hosts banned, the other through the collector (ship, fleet rule, hosts: all, long-poll): {summary(fleet)}; "
                               f"{common}; goal p99 <= 2 s")})
    return results



MEASURES = {
    "socket_to_spool": measure_socket_to_spool,
    "single_event_requests": measure_single_event_requests,
    "socket_clients": measure_socket_clients,
    "lookup": measure_lookup,
    "freshness": measure_freshness,
    "steady_rate": measure_steady_rate,
    "end_to_end": measure_end_to_end,
    "auth_log_tail": measure_auth_log_tail,
    "journal_read": measure_journal_read,
    "archive": measure_archive,
    "resources": measure_resources,
    "collector_ingest": measure_collector_ingest,
    "journal_ship": measure_journal_ship,
    "auth_log_rotating": measure_auth_log_rotating,
    "insights": measure_insights,
    "rules": measure_rules,
    "responses": measure_responses,
}


def prepare_fixtures(bin_dir, quick, only, every_size=False):
    """Makes (or finds cached) the journals and the lookup store the chosen measures read; with
    `every_size`, those of both `make bench-quick` and `make bench`."""
    chosen = set(only or MEASURES)
    sizes = (True, False) if every_size else (quick,)
    journals = {100_000 if small else 400_000 for small in sizes} if "journal_read" in chosen else set()
    journals |= {JOURNAL_SHIP_QUICK if small else 400_000 for small in sizes} if "journal_ship" in chosen else set()
    stores = {100_000 if small else (10_000_000 if FULL else 1_000_000) for small in sizes} if "lookup" in chosen else set()
    return [journal_fixture(total) for total in sorted(journals)] + [store_fixture(bin_dir, total) for total in sorted(stores)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small workloads (make bench-quick)")
    parser.add_argument("--full", action="store_true", help="also the 10M-event measures (make bench-full; ~15 GB of disk)")
    parser.add_argument("--only", nargs="*", choices=sorted(MEASURES), help="run only these measures")
    parser.add_argument("--data-only", action="store_true", help="build, then generate the cached fixtures of bench-quick and bench (make bench-data)")
    parser.add_argument("--configuration", default="release", choices=["release", "debug"],
                        help="debug only to check the harness itself; figures come from release builds")
    parser.add_argument("--against", metavar="BIN_DIR",
                        help="an A/B run: each chosen measure runs first with the release binaries in BIN_DIR (another "
                             "commit's `make release`), then with this tree's, and a table gives both medians and their ratio")
    args = parser.parse_args()
    global FULL
    FULL = args.full
    bin_dir = build(args.configuration)
    # Fixtures first, timed apart: the budgets are for the measures (a fixture is made once and cached).
    began = time.perf_counter()
    for path in prepare_fixtures(bin_dir, args.quick, args.only, every_size=args.data_only):
        print(f"bench: fixture {os.path.relpath(path, ROOT)}", flush=True)
    print(f"bench: fixtures ready in {time.perf_counter() - began:.1f} s (not counted)", flush=True)
    if args.data_only:
        return
    results = []
    timings = {}
    for name in args.only or list(MEASURES):
        print(f"bench: {name}", flush=True)
        began = time.perf_counter()
        if args.against:
            for result in MEASURES[name](args.against, args.quick):
                results.append(dict(result, name=result["name"] + "@against"))
        results.extend(MEASURES[name](bin_dir, args.quick))
        timings[name] = round(time.perf_counter() - began, 1)
        print(f"bench: {name} took {timings[name]} s", flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    os.makedirs(RESULTS, exist_ok=True)
    document = {
        "timestamp": stamp, "quick": args.quick, "configuration": args.configuration, "against": args.against,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "results": results, "seconds": timings, "total_seconds": round(sum(timings.values()), 1),
    }
    path = os.path.join(RESULTS, f"{stamp}{'' if args.configuration == 'release' else '-debug'}.json")
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2)
    print()
    print("| measure | median | unit | runs | baseline | ratio |")
    print("|---|---|---|---|---|---|")
    for result in results:
        runs = ", ".join(f"{value:,.1f}" for value in result["runs"])
        ratio = f"{result['ratio']:.2f}" if result["ratio"] else "—"
        print(f"| {result['name']} | {result['median']:,.1f} | {result['unit']} | {runs} | {result['baseline'] or '—'} | {ratio} |")
    if args.against:
        before = {r["name"][:-len("@against")]: r for r in results if r["name"].endswith("@against")}
        print(f"\nA/B against {args.against} (same run, that build first):\n")
        print("| measure | this tree | against | unit | ratio |")
        print("|---|---|---|---|---|")
        for result in results:
            if result["name"] in before and before[result["name"]]["median"]:
                other = before[result["name"]]["median"]
                print(f"| {result['name']} | {result['median']:,.1f} | {other:,.1f} | {result['unit']} | {result['median'] / other:.3f} |")
    plot = write_plot([r for r in results if not r["name"].endswith("@against")], path[:-len(".json")] + ".png")
    print(f"\nbench: measures took {document['total_seconds']} s (the release build and fixtures not counted)")
    print(f"bench: results written to {os.path.relpath(path, ROOT)}" + (f" and {os.path.relpath(plot, ROOT)}" if plot else ""))


if __name__ == "__main__":
    main()
