// SPDX-License-Identifier: Apache-2.0

import TrailCore

extension CollectorConfiguration {
    /// Every key of collector.toml and every flag of `hosttrail-collector run`, declared once (see
    /// ``ConfigurationKey``). A new key is one row here, one flag in the command, one line in
    /// ``init(settings:)``; tests name what else must mention it.
    public static let keys: [ConfigurationKey] = [
        .init("listen", .text, "Address to listen on, HOST:PORT; port 0 picks a free one", default: "0.0.0.0:8443", value: .string("0.0.0.0:8443")),
        .init("data-dir", .text, "Data directory", default: "/var/lib/hosttrail/collector", value: .string("/var/lib/hosttrail/collector")),
        .init("tls-cert", .text, "Server certificate, PEM", default: "/etc/hosttrail/collector.pem", value: .string("/etc/hosttrail/collector.pem")),
        .init("tls-key", .text, "Server key, PEM", default: "/etc/hosttrail/collector-key.pem", value: .string("/etc/hosttrail/collector-key.pem")),
        .init("client-ca", .text, "CA of agent certificates, PEM", default: "/etc/hosttrail/ca.pem", value: .string("/etc/hosttrail/ca.pem")),
        .init("account-id", .text, "12-digit account id stamped into records", default: "000000000000", value: .string("000000000000")),
        .init("region", .text, "Region name stamped into records", default: "local", value: .string("local")),
        .init("trail-name", .text, "Trail name", default: "hosttrail", value: .string("hosttrail")),
        .init(
            "max-ingest-bytes", .integer(1024...(1024 * 1024 * 1024)), "Largest compressed batch accepted", default: "16 MiB",
            value: .integer(16 << 20)),
        .init("max-concurrent-ingest", .integer(1...10_000), "Ingest requests handled at once; more get 503", default: "32", value: .integer(32)),
        .init(
            "max-record-bytes", .integer(1024...(16 * 1024 * 1024)), "Largest record stored; a larger one is refused on its own", default: "512 KiB",
            value: .integer(512 << 10)),
        .init(
            "max-connections", .integer(1...1_000_000), "Connections served at once, below the descriptor limit", default: "4096",
            value: .integer(4096)),
        .init(
            "max-connections-per-address", .integer(1...1_000_000), "Connections one client address may hold, at most a quarter of all",
            default: "512",
            value: .integer(512)),
        .init(
            "request-timeout-ms", .integer(100...3_600_000),
            "A request must arrive whole this long after the connection opened or the previous response",
            default: "30000", value: .integer(30_000)),
        .init(
            "access-key-file", .text, "SigV4 access keys for the CloudTrail API, one 'ID SECRET [hosts=..] [event-sources=..]' a line (mode 0600)",
            default: "none: lookups need a client certificate", reload: .live),
        .init("access-key", .list, "A SigV4 access key ID:SECRET (repeatable; for tests)", default: "none", reload: .live),
        .init(
            "fleet-reader", .list,
            "CN of a client certificate that may read the whole fleet (repeatable); other host certificates read their own host only",
            default: "none", reload: .live),
        .init("revocation-file", .text, "Revoked host certificates, 'cn:NAME' or 'serial:HEX' a line; reloaded on SIGHUP", default: "none"),
        .init(
            "retention-days", .integer(0...36_500), "Delete events older than this many days, recording each deletion; 0 keeps everything",
            default: "0",
            value: .integer(0)),
        .init(
            "retention-interval-ms", .integer(100...86_400_000), "How often expired events are looked for", default: "60000", value: .integer(60_000)),
        .init("archive", .flag, "Write CloudTrail log files and signed digests (--no-archive: not)", default: "on", value: .bool(true)),
        .init("archive-dir", .text, "Where log files and digests are written (it holds AWSLogs/)", default: "<data-dir>/archive"),
        .init("log-file-interval", .text, "How often stored records are written to log files, e.g. 10s, 5m", default: "5m", value: .string("5m")),
        .init("digest-interval", .text, "How often a signed digest is written, 5s or more", default: "1h", value: .string("1h")),
        .init("signing-key", .text, "Digest signing key, RSA PEM", default: "the newest in <data-dir>/keys, made at first start"),
        .init("s3-endpoint", .text, "S3-compatible endpoint the archive is also copied to, e.g. https://s3.example.net", default: "none"),
        .init("s3-bucket", .text, "Bucket named in the digests and uploaded to", default: "hosttrail", value: .string("hosttrail")),
        .init("s3-prefix", .text, "Key prefix in the bucket", default: "none", value: .string("")),
        .init("s3-region", .text, "Region S3 requests are signed for", default: "us-east-1", value: .string("us-east-1")),
        .init("s3-credentials-file", .text, "'ACCESS_KEY_ID SECRET' for the bucket (mode 0600)", default: "none"),
        .init("s3-ca", .text, "CA bundle for an https S3 endpoint", default: "the system's"),
        .init(
            "insights", .flag, "Find unusual activity and write CloudTrail Insight records (--no-insights: not)", default: "on", value: .bool(true)),
        .init("insights-window-days", .integer(1...28), "Days of history an Insight's baseline holds", default: "7", value: .integer(7)),
        .init(
            "insights-min-history", .text, "History a key needs before Insights speak, e.g. 24h, 30m", default: "24h", value: .string("24h")),
        .init(
            "insights-grace", .text, "How long after a minute ends its late records are still counted, e.g. 60s", default: "60s",
            value: .string("60s")),
        .init(
            "insights-probability", .text, "A minute is unusual when a count as far out is this unlikely", default: "1e-6",
            value: .string("1e-6")),
        .init(
            "insights-warm-up-probability", .text, "The same, until the baseline's window is full", default: "1e-9", value: .string("1e-9")),
        .init("insights-min-count", .integer(1...1_000_000), "Fewest events in a minute that can be unusual", default: "5", value: .integer(5)),
        .init(
            "insights-multiplier", .text, "An unusual minute is at least this many times its baseline (or at most its baseline over it)",
            default: "3", value: .string("3")),
        .init(
            "insights-drop-min-mean", .text, "A drop is looked for only in keys with at least this many events a minute", default: "10",
            value: .string("10")),
        .init("insights-start-minutes", .integer(1...60), "Unusual minutes in a row that open an Insight", default: "2", value: .integer(2)),
        .init("insights-end-minutes", .integer(1...1440), "Ordinary minutes in a row that close it", default: "5", value: .integer(5)),
        .init(
            "insights-max-keys", .integer(1...10_000_000), "Keys (what x where) Insights follow at most; counts past it are dropped and logged",
            default: "100000", value: .integer(100_000)),
        .init(
            "rules-dir", .text, "Rule files (HostTrail YAML or Sigma), one rule a file; reloaded on SIGHUP", default: "/etc/hosttrail/rules.d",
            value: .string("/etc/hosttrail/rules.d")),
        .init(
            "rules-max-groups", .integer(1...10_000_000), "Groups (group-by values) a windowed rule holds; past it the least recent are evicted",
            default: "10000", value: .integer(10_000)),
        .init("actions-max-concurrent", .integer(1...256), "Actions (webhooks, programs) run at once", default: "8", value: .integer(8)),
        .init(
            "metrics-listen", .text, "Serve /metrics, /healthz and /readyz over plain HTTP here: HOST:PORT or unix:PATH; none: not",
            default: "127.0.0.1:9479", value: .string("127.0.0.1:9479")),
        .init(
            "min-free-disk-mb", .integer(0...10_000_000), "Below this much free space for the data directory, /readyz says not ready",
            default: "512", value: .integer(512)),
        .init("log-level", .text, "trace, debug, info, notice, warning, error or critical", default: "info", value: .string("info"), reload: .live),
        .init("log-format", .text, "text, logfmt or json (one line per event, stable keys)", default: "text", value: .string("text")),
    ]
}
