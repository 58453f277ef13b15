// SPDX-License-Identifier: Apache-2.0

import TrailCore

extension AgentConfiguration {
    /// Every key of agent.toml and every flag of `hosttrail-agent run`, declared once (see
    /// ``ConfigurationKey``). A new key is one row here, one flag in the command, one line in
    /// ``init(settings:)``; tests name what else must mention it.
    public static let keys: [ConfigurationKey] = [
        .init("collector", "Collector URL, e.g. https://collector.example:8443 (required)"),
        .init("spool-dir", "Spool directory", default: "/var/lib/hosttrail/spool", value: .string("/var/lib/hosttrail/spool")),
        .init("socket", "Application socket", default: "/run/hosttrail/api.sock", value: .string("/run/hosttrail/api.sock")),
        .init("socket-mode", "Socket file mode, octal", default: "0660", value: .string("0660")),
        .init("socket-group", "Socket file group", default: "hosttrail", value: .string("hosttrail")),
        .init("socket-owner", "Socket file owner, a user name or uid", default: "root", value: .string("root")),
        .init("ca", "CA certificate of the collector", default: "/etc/hosttrail/ca.pem", value: .string("/etc/hosttrail/ca.pem")),
        .init("cert", "This host's client certificate", default: "/etc/hosttrail/agent.pem", value: .string("/etc/hosttrail/agent.pem")),
        .init("key", "Its private key", default: "/etc/hosttrail/agent-key.pem", value: .string("/etc/hosttrail/agent-key.pem")),
        .init("hostname", "Host name in records; must equal the certificate's CN", default: "the certificate's CN"),
        .init("batch-max-records", "Records per shipped batch", default: "500", value: .integer(500)),
        .init("batch-max-age-ms", "Longest wait for a fuller batch", default: "200", value: .integer(200)),
        .init("batch-max-bytes", "Uncompressed bytes per shipped batch", default: "4 MiB", value: .integer(4 << 20)),
        .init("connect-timeout-ms", "Connect timeout to the collector", default: "10000", value: .integer(10_000)),
        .init("request-timeout-ms", "Whole-request timeout to the collector", default: "60000", value: .integer(60_000)),
        .init("proxy", "HTTP(S) proxy for the collector", default: "none"),
        .init("spool-max-bytes", "Most bytes the spool may hold", default: "1 GiB", value: .integer(1 << 30)),
        .init(
            "spool-full-policy", "What a full spool does: block (sources wait, the socket answers 503) or drop_oldest", default: "block",
            value: .string("block")),
        .init("spool-commit-interval-ms", "Wait this long to gather writes into one fsync", default: "0", value: .integer(0)),
        .init("max-request-bytes", "Largest request body on the socket", default: "5 MiB", value: .integer(5 << 20)),
        .init(
            "socket-read-timeout-ms", "A request must be complete this long after the connection opened or the previous reply",
            default: "10000", value: .integer(10_000)),
        .init(
            "tail-file", "A log file to tail (repeatable, at most 8; replaces the defaults)",
            default: "auth.log, secure, dpkg.log, apt/history.log", value: .strings(AgentConfiguration.defaultTailFiles)),
        .init("no-tail-files", "Tail no log files"),
        .init("read-from", "Where a source without a checkpoint starts: beginning, boot or end", default: "boot", value: .string("boot")),
        .init(
            "hide-unknown-user-names", "Hide the names in failed logins for accounts that do not exist", default: "true",
            value: .bool(true)),
        .init("file-poll-interval-ms", "How often tailed files are checked", default: "250", value: .integer(250)),
        .init(
            "journal", "Read journald (auth.log and secure are then watched for tampering only; --no-journal: not)", default: "on",
            value: .bool(true)),
        .init("journal-directory", "Read the journal files in this directory instead of the local journal", default: "the local journal"),
        .init(
            "event-selector",
            "include|exclude FIELD=VALUE[,VALUE] … with fields eventSource, eventName, readOnly, unit, identifier (repeatable)",
            default: "none: parsed activity kept, other lines dropped"),
        .init("max-connections", "Socket connections served at once, below the descriptor limit", default: "1024", value: .integer(1024)),
        .init("max-connections-per-uid", "Socket connections one account may hold; root is not capped", default: "64", value: .integer(64)),
        .init("rate-limit", "Events a second per uid on the socket; 0 for none; root is not limited", default: "10000", value: .integer(10_000)),
        .init("rate-limit-burst", "Events per uid at once before the rate applies", default: "2 x --rate-limit"),
        .init(
            "event-source-claim",
            "EVENT_SOURCE=PRINCIPAL[,...]: only these may write the source; principals uid:N user:NAME gid:N group:NAME unit:NAME (repeatable)",
            default: "none"),
        .init("log-level", "trace, debug, info, notice, warning, error or critical", default: "info", value: .string("info")),
    ]
}
