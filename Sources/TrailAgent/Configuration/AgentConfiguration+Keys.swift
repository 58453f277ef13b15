// SPDX-License-Identifier: Apache-2.0

import TrailCore

extension AgentConfiguration {
    /// Every key of agent.toml and every flag of `hosttrail-agent run`, declared once (see
    /// ``ConfigurationKey``). A new key is one row here, one flag in the command, one line in
    /// ``init(settings:)``; tests name what else must mention it.
    public static let keys: [ConfigurationKey] = [
        .init("collector", .text, "Collector URL, e.g. https://collector.example:8443 (required)"),
        .init("spool-dir", .text, "Spool directory", default: "/var/lib/hosttrail/spool", value: .string("/var/lib/hosttrail/spool")),
        .init("socket", .text, "Application socket", default: "/run/hosttrail/api.sock", value: .string("/run/hosttrail/api.sock")),
        .init("socket-mode", .text, "Socket file mode, octal", default: "0660", value: .string("0660")),
        .init("socket-group", .text, "Socket file group", default: "hosttrail", value: .string("hosttrail")),
        .init("socket-owner", .text, "Socket file owner, a user name or uid", default: "root", value: .string("root")),
        .init("ca", .text, "CA certificate of the collector", default: "/etc/hosttrail/ca.pem", value: .string("/etc/hosttrail/ca.pem")),
        .init("cert", .text, "This host's client certificate", default: "/etc/hosttrail/agent.pem", value: .string("/etc/hosttrail/agent.pem")),
        .init("key", .text, "Its private key", default: "/etc/hosttrail/agent-key.pem", value: .string("/etc/hosttrail/agent-key.pem")),
        .init("hostname", .text, "Host name in records; must equal the certificate's CN", default: "the certificate's CN"),
        .init("batch-max-records", .integer(1...10_000), "Records per shipped batch", default: "500", value: .integer(500)),
        .init("batch-max-age-ms", .integer(1...60_000), "Longest wait for a fuller batch", default: "200", value: .integer(200)),
        .init(
            "batch-max-bytes", .integer(4096...(64 * 1024 * 1024)), "Uncompressed bytes per shipped batch", default: "4 MiB", value: .integer(4 << 20)
        ),
        .init("connect-timeout-ms", .integer(100...600_000), "Connect timeout to the collector", default: "10000", value: .integer(10_000)),
        .init("request-timeout-ms", .integer(100...3_600_000), "Whole-request timeout to the collector", default: "60000", value: .integer(60_000)),
        .init("proxy", .text, "HTTP(S) proxy for the collector", default: "none"),
        .init("spool-max-bytes", .integer((1 << 20)...(1 << 50)), "Most bytes the spool may hold", default: "1 GiB", value: .integer(1 << 30)),
        .init(
            "spool-full-policy", .text, "What a full spool does: block (sources wait, the socket answers 503) or drop_oldest", default: "block",
            value: .string("block")),
        .init("spool-commit-interval-ms", .integer(0...1000), "Wait this long to gather writes into one fsync", default: "0", value: .integer(0)),
        .init(
            "max-request-bytes", .integer(1024...(64 * 1024 * 1024)), "Largest request body on the socket", default: "5 MiB", value: .integer(5 << 20)
        ),
        .init(
            "socket-read-timeout-ms", .integer(100...3_600_000),
            "A request must be complete this long after the connection opened or the previous reply",
            default: "10000", value: .integer(10_000)),
        .init(
            "tail-file", .list, "A log file to tail (repeatable, at most 8; replaces the defaults)",
            default: "auth.log, secure, dpkg.log, apt/history.log", value: .strings(AgentConfiguration.defaultTailFiles), reload: .live),
        .init("no-tail-files", .flag, "Tail no log files", reload: .live),
        .init("read-from", .text, "Where a source without a checkpoint starts: beginning, boot or end", default: "boot", value: .string("boot")),
        .init(
            "hide-unknown-user-names", .flag, "Hide the names in failed logins for accounts that do not exist", default: "true",
            value: .bool(true)),
        .init("file-poll-interval-ms", .integer(10...60_000), "How often tailed files are checked", default: "250", value: .integer(250)),
        .init(
            "journal", .flag, "Read journald (auth.log and secure are then watched for tampering only; --no-journal: not)", default: "on",
            value: .bool(true)),
        .init("journal-directory", .text, "Read the journal files in this directory instead of the local journal", default: "the local journal"),
        .init(
            "event-selector", .list,
            "include|exclude FIELD=VALUE[,VALUE] … with fields eventSource, eventName, readOnly, unit, identifier (repeatable)",
            default: "none: parsed activity kept, other lines dropped", reload: .live),
        .init(
            "max-connections", .integer(1...100_000), "Socket connections served at once, below the descriptor limit", default: "1024",
            value: .integer(1024)),
        .init(
            "max-connections-per-uid", .integer(1...100_000), "Socket connections one account may hold; root is not capped", default: "64",
            value: .integer(64)),
        .init(
            "rate-limit", .integer(0...100_000_000), "Events a second per uid on the socket; 0 for none; root is not limited", default: "10000",
            value: .integer(10_000), reload: .live),
        .init(
            "rate-limit-burst", .integer(1...100_000_000), "Events per uid at once before the rate applies", default: "2 x --rate-limit",
            reload: .live),
        .init(
            "event-source-claim", .list,
            "EVENT_SOURCE=PRINCIPAL[,...]: only these may write the source; principals uid:N user:NAME gid:N group:NAME unit:NAME (repeatable)",
            default: "none", reload: .live),
        .init(
            "responses-dir", .text, "Responses this host performs when asked, one NAME.toml each (none: no responses)",
            default: "/etc/hosttrail/responses.d", value: .string("/etc/hosttrail/responses.d"), reload: .live),
        .init(
            "host-rules-dir", .text, "This host's own rules, NAME.json each, evaluated here on its own records; they respond here",
            default: "/etc/hosttrail/host-rules.d", value: .string("/etc/hosttrail/host-rules.d"), reload: .live),
        .init(
            "firewall-table", .text, "The nftables table (family inet) of block-address responses; the agent's own",
            default: "hosttrail", value: .string("hosttrail")),
        .init(
            "heartbeat-interval-ms", .integer(1000...86_400_000),
            "How often the agent records a Heartbeat (counters, spool depth, oldest record's age)",
            default: "300000", value: .integer(300_000)),
        .init(
            "metrics-listen", .text, "Serve /metrics and /v1/health over HTTP here: HOST:PORT (loopback) or unix:PATH",
            default: "none"),
        .init("metrics-textfile", .text, "Write the metrics to this node_exporter textfile (NAME.prom) every 15 s", default: "none"),
        .init("log-level", .text, "trace, debug, info, notice, warning, error or critical", default: "info", value: .string("info"), reload: .live),
        .init("log-format", .text, "text, logfmt or json (one line per event, stable keys)", default: "text", value: .string("text")),
    ]
}
