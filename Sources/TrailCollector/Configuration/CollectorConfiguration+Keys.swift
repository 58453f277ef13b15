// SPDX-License-Identifier: Apache-2.0

import TrailCore

extension CollectorConfiguration {
    /// Every key of collector.toml and every flag of `hosttrail-collector run`, declared once (see
    /// ``ConfigurationKey``). A new key is one row here, one flag in the command, one line in
    /// ``init(settings:)``; tests name what else must mention it.
    public static let keys: [ConfigurationKey] = [
        .init("listen", "Address to listen on, HOST:PORT; port 0 picks a free one", default: "0.0.0.0:8443", value: .string("0.0.0.0:8443")),
        .init("data-dir", "Data directory", default: "/var/lib/hosttrail/collector", value: .string("/var/lib/hosttrail/collector")),
        .init("tls-cert", "Server certificate, PEM", default: "/etc/hosttrail/collector.pem", value: .string("/etc/hosttrail/collector.pem")),
        .init("tls-key", "Server key, PEM", default: "/etc/hosttrail/collector-key.pem", value: .string("/etc/hosttrail/collector-key.pem")),
        .init("client-ca", "CA of agent certificates, PEM", default: "/etc/hosttrail/ca.pem", value: .string("/etc/hosttrail/ca.pem")),
        .init("account-id", "12-digit account id stamped into records", default: "000000000000", value: .string("000000000000")),
        .init("region", "Region name stamped into records", default: "local", value: .string("local")),
        .init("trail-name", "Trail name", default: "hosttrail", value: .string("hosttrail")),
        .init("max-ingest-bytes", "Largest compressed batch accepted", default: "16 MiB", value: .integer(16 << 20)),
        .init("max-concurrent-ingest", "Ingest requests handled at once; more get 503", default: "32", value: .integer(32)),
        .init("max-record-bytes", "Largest record stored; a larger one is refused on its own", default: "512 KiB", value: .integer(512 << 10)),
        .init("max-connections", "Connections served at once, below the descriptor limit", default: "4096", value: .integer(4096)),
        .init(
            "max-connections-per-address", "Connections one client address may hold, at most a quarter of all", default: "512",
            value: .integer(512)),
        .init(
            "request-timeout-ms", "A request must arrive whole this long after the connection opened or the previous response",
            default: "30000", value: .integer(30_000)),
        .init(
            "access-key-file", "SigV4 access keys for the CloudTrail API, one 'ID SECRET [hosts=..] [event-sources=..]' a line (mode 0600)",
            default: "none: lookups need a client certificate"),
        .init("access-key", "A SigV4 access key ID:SECRET (repeatable; for tests)", default: "none"),
        .init(
            "fleet-reader", "CN of a client certificate that may read the whole fleet (repeatable); other host certificates read their own host only",
            default: "none"),
        .init("revocation-file", "Revoked host certificates, 'cn:NAME' or 'serial:HEX' a line; reloaded on SIGHUP", default: "none"),
        .init(
            "retention-days", "Delete events older than this many days, recording each deletion; 0 keeps everything", default: "0",
            value: .integer(0)),
        .init("retention-interval-ms", "How often expired events are looked for", default: "60000", value: .integer(60_000)),
        .init("archive", "Write CloudTrail log files and signed digests (--no-archive: not)", default: "on", value: .bool(true)),
        .init("archive-dir", "Where log files and digests are written (it holds AWSLogs/)", default: "<data-dir>/archive"),
        .init("log-file-interval", "How often stored records are written to log files, e.g. 10s, 5m", default: "5m", value: .string("5m")),
        .init("digest-interval", "How often a signed digest is written, 5s or more", default: "1h", value: .string("1h")),
        .init("signing-key", "Digest signing key, RSA PEM", default: "the newest in <data-dir>/keys, made at first start"),
        .init("s3-endpoint", "S3-compatible endpoint the archive is also copied to, e.g. https://s3.example.net", default: "none"),
        .init("s3-bucket", "Bucket named in the digests and uploaded to", default: "hosttrail", value: .string("hosttrail")),
        .init("s3-prefix", "Key prefix in the bucket", default: "none", value: .string("")),
        .init("s3-region", "Region S3 requests are signed for", default: "us-east-1", value: .string("us-east-1")),
        .init("s3-credentials-file", "'ACCESS_KEY_ID SECRET' for the bucket (mode 0600)", default: "none"),
        .init("s3-ca", "CA bundle for an https S3 endpoint", default: "the system's"),
        .init("log-level", "trace, debug, info, notice, warning, error or critical", default: "info", value: .string("info")),
    ]
}
