#!/usr/bin/env bash
# make demo: dev certificates, a collector on its embedded store, an agent, a few application
# events sent through the agent's socket with curl and hosttrail send, and lookups (hosttrail and the AWS CLI) that show them.
# Everything lives under demo-data/ and listens on loopback only. DEMO_KEEP=1 leaves both running.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
BIN="$(swift build --show-bin-path)"
DIR="$PWD/demo-data"
ROOT="$PWD"

stop() {
    for name in agent collector; do
        if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
            kill -TERM "$(cat "$DIR/$name.pid")"
            for _ in $(seq 100); do kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$DIR/$name.pid"
    done
    # The demo's own nftables table (block-address responses); nothing else is touched.
    if command -v nft >/dev/null && [ "$(id -u)" -eq 0 ]; then nft delete table inet hosttrail_demo 2>/dev/null || true; fi
}
if [ "${1:-}" = "stop" ]; then stop; echo "demo stopped"; exit 0; fi
stop

# Each demo starts from an empty store and spool (the certificates are kept and reused).
rm -rf "$DIR/collector" "$DIR/spool" "$DIR/rules" "$DIR/responses.d"
mkdir -p "$DIR" "$DIR/rules" "$DIR/responses.d"
# The shipped rules; the brute-force one also writes a line to the collector's log when it fires.
cp "$ROOT"/packaging/rules/*.yml "$DIR/rules/"
printf 'actions:\n  - log: {priority: warning}\n' >> "$DIR/rules/ssh-brute-force.yml"
# ... and asks the host the failures came from to block the address.
printf '  - respond: {response: block-ssh-attacker, arguments: {address: detail.sourceIPAddress}}\n' >> "$DIR/rules/ssh-brute-force.yml"
# The host defines that response (packaging/responses/: for how long, escalating, never whom):
# the collector can only ask for it.
cp "$ROOT/packaging/responses/block-ssh-attacker.toml" "$DIR/responses.d/"
echo "== dev certificates"
"$BIN/hosttrail" dev-certs --out "$DIR/certs" --host demo-host | sed 's/^/   /'

echo "== collector (embedded SQLite store) on a free loopback port"
: > "$DIR/collector.log"
start_collector() {  # $1: the address to listen on
    local lines
    lines="$(wc -l < "$DIR/collector.log")"
    # Insights speak after an hour of history here (a day by default), and learn over one day.
    "$BIN/hosttrail-collector" --listen "$1" --data-dir "$DIR/collector" \
        --tls-cert "$DIR/certs/collector.pem" --tls-key "$DIR/certs/collector-key.pem" --client-ca "$DIR/certs/ca.pem" \
        --account-id 123456789012 --region demo-1 --trail-name demo-trail \
        --log-file-interval 2s --digest-interval 10s --insights-min-history 60m --insights-window-days 1 --rules-dir "$DIR/rules" \
        --access-key "AKIDHOSTTRAILDEMO:demo-secret-not-for-production" --metrics-listen "unix:$DIR/collector-metrics.sock" \
        >>"$DIR/collector.log" 2>&1 &
    echo $! > "$DIR/collector.pid"
    URL=""
    for _ in $(seq 100); do
        URL="$(tail -n +"$((lines + 1))" "$DIR/collector.log" | grep -o 'listening on https://[0-9.:]*' | head -1 | sed 's/listening on //')" || true
        [ -n "$URL" ] && break
        kill -0 "$(cat "$DIR/collector.pid")" 2>/dev/null || { cat "$DIR/collector.log"; exit 1; }
        sleep 0.1
    done
    [ -n "$URL" ] || { echo "collector did not start"; cat "$DIR/collector.log"; exit 1; }
}
start_collector 127.0.0.1:0
echo "   $URL (log: $DIR/collector.log)"

echo "== agent (socket $DIR/api.sock, spool $DIR/spool)"
"$BIN/hosttrail-agent" --collector "$URL" --spool-dir "$DIR/spool" --socket "$DIR/api.sock" \
    --ca "$DIR/certs/ca.pem" --cert "$DIR/certs/demo-host.pem" --key "$DIR/certs/demo-host-key.pem" \
    --hostname demo-host --read-from end --responses-dir "$DIR/responses.d" --firewall-table hosttrail_demo \
    --heartbeat-interval-ms 2000 --metrics-listen "unix:$DIR/agent-metrics.sock" >"$DIR/agent.log" 2>&1 &
echo $! > "$DIR/agent.pid"
# Ready once every source has taken its place: 503 until then, so a script waits with --fail.
HEALTH=""
for _ in $(seq 100); do
    HEALTH="$(curl -sS --fail --unix-socket "$DIR/api.sock" http://localhost/v1/health 2>/dev/null)" && break
    sleep 0.1
done
[ -n "$HEALTH" ] || { echo "agent did not become ready"; cat "$DIR/agent.log"; exit 1; }
echo "   $ curl --unix-socket $DIR/api.sock http://localhost/v1/health"
echo "   $HEALTH"

echo "== application events through the socket (curl --unix-socket)"
post() {
    echo "   $ curl --unix-socket $DIR/api.sock -d '$1' http://localhost/v1/events"
    echo "   $(curl -sS --unix-socket "$DIR/api.sock" -d "$1" http://localhost/v1/events)"
}
post '{"eventSource":"billing.example.com","eventName":"CreateInvoice","requestParameters":{"invoiceId":42,"amount":"19.99"}}'
post '{"eventSource":"billing.example.com","eventName":"DeleteInvoice","requestParameters":{"invoiceId":42},"userIdentity":{"type":"Root","userName":"alice"}}'
post '{"events":[{"eventSource":"deploy.example.com","eventName":"StartDeployment","readOnly":false},{"eventSource":"deploy.example.com","eventName":"GetDeployment","readOnly":true}]}'
echo "   (a forged userIdentity is replaced by the kernel's peer credentials; the claimed user is kept as sessionContext.sourceIdentity)"
echo "   hostile input is refused with a reason, never stored or shown raw: a terminal escape in a name, a year past 9999"
post '{"eventSource":"billing.example.com","eventName":"Delete\u001b[2JInvoice"}'
post '{"eventSource":"billing.example.com","eventName":"DeleteInvoice","eventTime":"+10000-01-01T00:00:00Z"}'
echo "   $ hosttrail send --event-source billing.example.com --event-name RefundInvoice --param invoiceId:=42 --user bob"
echo "   $("$BIN/hosttrail" send --socket "$DIR/api.sock" --event-source billing.example.com --event-name RefundInvoice --param invoiceId:=42 --user bob)"

echo "== host activity through journald (logger → journald → the agent's journal reader)"
logger -p auth.info -t sshd --id=4242 "Failed password for invalid user demo-intruder from 203.0.113.5 port 52220 ssh2"
# The account name is the client's choice, word for word: sshd's own address is the one it writes last.
logger -p auth.info -t sshd --id=4243 "Failed password for invalid user zz from 198.51.100.66 port 1 from 203.0.113.6 port 52221 ssh2"
logger -p auth.info -t sudo "   root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl restart demo.service"
echo "   logged two failed SSH logins for unknown accounts (one named 'zz from 198.51.100.66 port 1') and a sudo command"
# Any account can log as sshd; journald says who really did, and the agent records that instead.
if setpriv --reuid=nobody --regid=nogroup --clear-groups logger -p auth.info -t sshd "Accepted password for root from 192.0.2.99 port 22 ssh2" 2>/dev/null; then
    echo "   and, as the account nobody, a forged 'Accepted password for root from 192.0.2.99' under sshd's name"
fi

sleep 1.5
LOOKUP=("$BIN/hosttrail" lookup --collector "$URL" --ca "$DIR/certs/ca.pem" --cert "$DIR/certs/demo-host.pem" --key "$DIR/certs/demo-host-key.pem")
echo "== hosttrail lookup --since 1h"
"${LOOKUP[@]}" --since 1h
echo
echo "== hosttrail lookup --event-source sshd.linux --output json   (unknown accounts' names are hidden, as CloudTrail does;"
echo "   each attempt is one Login record at the address sshd wrote, whatever the name said)"
"${LOOKUP[@]}" --event-source sshd.linux --output json
echo
echo "== hosttrail lookup --event-name UnverifiedLogEntry   (the forged line, recorded as what it is)"
"${LOOKUP[@]}" --event-name UnverifiedLogEntry
echo
echo "== hosttrail lookup --event-source billing.example.com --event-name DeleteInvoice --output json"
"${LOOKUP[@]}" --event-source billing.example.com --event-name DeleteInvoice --output json

echo
echo "== the stock AWS CLI, SigV4-signed with the collector's demo access key"
echo "   $ aws cloudtrail lookup-events --endpoint-url $URL --lookup-attributes AttributeKey=EventSource,AttributeValue=billing.example.com"
AWS_CA_BUNDLE="$DIR/certs/ca.pem" AWS_ACCESS_KEY_ID=AKIDHOSTTRAILDEMO AWS_SECRET_ACCESS_KEY=demo-secret-not-for-production \
    AWS_DEFAULT_REGION=demo-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    python3 -m awscli cloudtrail lookup-events --endpoint-url "$URL" --output table \
    --query 'Events[].[EventTime,EventName,Username]' \
    --lookup-attributes AttributeKey=EventSource,AttributeValue=billing.example.com | sed 's/^/   /'

echo
echo "== Insights: unusual activity, found and explained"
echo "   three hours of history for demo-host (about one failed SSH login a minute), with a burst of"
echo "   40 a minute from 198.51.100.23 twenty minutes ago, delivered as an agent would have (past event times)"
python3 - "$DIR/history.json" <<'PY'
import json, random, sys, time, uuid
now = int(time.time()) // 60
random.seed(7)
records = []
for minute in range(now - 180, now - 1):
    burst = now - 22 <= minute < now - 17
    for i in range(40 if burst else random.choice([0, 1, 1, 2])):
        records.append({
            "eventVersion": "1.11", "eventID": str(uuid.uuid4()), "eventType": "AwsConsoleSignIn",
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minute * 60 + i)),
            "eventSource": "sshd.linux", "eventName": "Login", "readOnly": False, "errorCode": "AuthFailure",
            "errorMessage": "Failed password", "userAgent": "sshd",
            "sourceIPAddress": "198.51.100.23" if burst else "203.0.113.%d" % random.randint(1, 9),
            "userIdentity": {"type": "LinuxUser", "userName": "deploy"},
        })
json.dump({"Records": records}, open(sys.argv[1], "w"))
print("   %d records" % len(records))
PY
curl -sS --cacert "$DIR/certs/ca.pem" --cert "$DIR/certs/demo-host.pem" --key "$DIR/certs/demo-host-key.pem" \
    -H 'Content-Type: application/json' --data-binary @"$DIR/history.json" "$URL/v1/records" | sed 's/^/   /'
echo
echo "   history delivered late is counted when Insights resume from the store: restart the collector on its port"
kill -TERM "$(cat "$DIR/collector.pid")"
for _ in $(seq 100); do kill -0 "$(cat "$DIR/collector.pid")" 2>/dev/null || break; sleep 0.1; done
start_collector "${URL#https://}"
for _ in $(seq 100); do [ "$(grep -c 'Insights resumed from the store' "$DIR/collector.log")" -ge 2 ] && break; sleep 0.1; done
grep -o 'insights.keys=[0-9]* insights.records=[0-9]*' "$DIR/collector.log" | tail -1 | sed 's/^/   /'
# With the access key: the fleet's and the users' Insights too (demo-host's certificate reads its own host's).
INSIGHTS=("$BIN/hosttrail" insights --collector "$URL" --ca "$DIR/certs/ca.pem" \
    --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production)
echo "   $ hosttrail insights"
"${INSIGHTS[@]}" | sed 's/^/   /'
SHARED="$("${INSIGHTS[@]}" --output json | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x["insightDetails"]["hostTrail"]["scope"]=="host" and x["insightDetails"]["insightType"]=="ApiErrorRateInsight"]; print(r[0]["sharedEventID"] if r else "")')"
if [ -n "$SHARED" ]; then
    echo "   $ hosttrail insights --show $SHARED"
    "${INSIGHTS[@]}" --show "$SHARED" | awk 'NR <= 64 { print "   " $0 } END { if (NR > 64) print "   … (" NR - 64 " more lines)" }'
fi
echo "   $ aws cloudtrail lookup-events --event-category insight"
AWS_CA_BUNDLE="$DIR/certs/ca.pem" AWS_ACCESS_KEY_ID=AKIDHOSTTRAILDEMO AWS_SECRET_ACCESS_KEY=demo-secret-not-for-production \
    AWS_DEFAULT_REGION=demo-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    python3 -m awscli cloudtrail lookup-events --endpoint-url "$URL" --output table --event-category insight \
    --query 'Events[].[EventTime,EventSource,EventName,EventId]' | sed 's/^/   /'

echo
echo "== Rules: every stored record against the rules in $DIR/rules (packaging/rules/), within a second"
for port in 52301 52302 52303 52304 52305; do
    logger -p auth.info -t sshd --id=$((4300 + port % 100)) "Failed password for invalid user admin from 203.0.113.77 port $port ssh2"
done
echo "   logged five failed SSH logins from 203.0.113.77 (the shipped ssh-brute-force rule: five in ten minutes)"
for _ in $(seq 100); do grep -F '203.0.113.77"}' "$DIR/collector.log" | grep -q 'rule=ssh-brute-force' && break; sleep 0.1; done
grep -F '203.0.113.77"}' "$DIR/collector.log" | grep 'rule=ssh-brute-force' | tail -1 | cut -c1-200 | sed 's/^/   collector log: /'
RULES=("$BIN/hosttrail" rules list --collector "$URL" --ca "$DIR/certs/ca.pem" \
    --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production)
echo "   $ hosttrail rules list"
"${RULES[@]}" | sed 's/^/   /'
echo "   $ hosttrail lookup --event-name RuleMatched   (each firing is a record: rule, group, count, window, matched event IDs)"
"${LOOKUP[@]}" --event-name RuleMatched --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production \
    --output json | python3 -c '
import json, sys
for r in json.load(sys.stdin)[:4]:
    p = r["requestParameters"]
    print("   %s  %-34s %-50s count %s" % (r["eventTime"], p["ruleName"], json.dumps(p["groupBy"])[:50], p["count"]))'
echo "   $ hosttrail rules test packaging/rules/ssh-brute-force.yml failures.json   (offline, windows included)"
python3 - "$DIR/failures.json" <<'PY'
import json, sys, uuid
records = [{"eventID": str(uuid.uuid4()), "eventTime": "2026-12-01T10:0%d:00Z" % i, "eventSource": "sshd.linux", "eventName": "Login",
            "errorCode": "AuthFailure", "sourceIPAddress": "192.0.2.10"} for i in range(6)]
json.dump({"Records": records}, open(sys.argv[1], "w"))
PY
"$BIN/hosttrail" rules test "$ROOT/packaging/rules/ssh-brute-force.yml" "$DIR/failures.json" | cut -c1-160 | sed 's/^/   /'

echo
echo "== Responses: the rule asked demo-host to block 203.0.113.77; the host's own definition decided (docs/responses.md)"
for _ in $(seq 100); do grep -q 'response performed\|response failed\|response refused' "$DIR/agent.log" && break; sleep 0.1; done
grep 'response performed\|response failed\|response refused' "$DIR/agent.log" | tail -1 | cut -c1-220 | sed 's/^/   agent log: /'
if command -v nft >/dev/null && [ "$(id -u)" -eq 0 ]; then
    echo "   $ nft list set inet hosttrail_demo blocked4   (the agent's own table; the ban times out in the kernel)"
    nft list set inet hosttrail_demo blocked4 2>&1 | grep -E 'elements|type' | sed 's/^\s*/   /'
fi
echo "   $ hosttrail responses list"
"$BIN/hosttrail" responses list --collector "$URL" --ca "$DIR/certs/ca.pem" \
    --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production | sed 's/^/   /'
echo "   $ hosttrail lookup --event-source responses.hosttrail   (asked by the collector, done by the host: both in the trail)"
for _ in $(seq 50); do
    "${LOOKUP[@]}" --event-source responses.hosttrail --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production \
        --output json | grep -q BlockAddress && break
    sleep 0.2
done
"${LOOKUP[@]}" --event-source responses.hosttrail --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production |
    cut -c1-150 | sed 's/^/   /'

echo
echo "== Fleet status: each host from its records and its agent's Heartbeat (every 2 s here; 5 min by default)"
for _ in $(seq 50); do
    "$BIN/hosttrail" status --collector "$URL" --ca "$DIR/certs/ca.pem" --access-key-id AKIDHOSTTRAILDEMO \
        --secret-access-key demo-secret-not-for-production --output json | grep -q LastHeartbeat && break
    sleep 0.2
done
echo "   $ hosttrail status"
"$BIN/hosttrail" status --collector "$URL" --ca "$DIR/certs/ca.pem" \
    --access-key-id AKIDHOSTTRAILDEMO --secret-access-key demo-secret-not-for-production | sed 's/^/   /'

echo
echo "== Operating it: Prometheus metrics and readiness (docs/operations.md)"
echo "   $ curl --unix-socket $DIR/collector-metrics.sock http://localhost/readyz"
echo "   $(curl -sS --unix-socket "$DIR/collector-metrics.sock" http://localhost/readyz)"
echo "   $ curl --unix-socket $DIR/collector-metrics.sock http://localhost/metrics | grep -E 'ingested|commit_duration_seconds_count|ready '"
curl -sS --unix-socket "$DIR/collector-metrics.sock" http://localhost/metrics \
    | grep -E '^hosttrail_collector_(ingested_records_total|commit_duration_seconds_count|ready)[ {]' | sed 's/^/   /'
echo "   $ curl --unix-socket $DIR/agent-metrics.sock http://localhost/metrics | grep spool_   (received = acknowledged + pending + dropped)"
curl -sS --unix-socket "$DIR/agent-metrics.sock" http://localhost/metrics \
    | grep -E '^hosttrail_agent_spool_(received|acknowledged|dropped)_records_total|^hosttrail_agent_spool_pending_records' | sed 's/^/   /'
echo "   $ kill -HUP <agent>   (systemctl reload: live settings apply, others are named 'restart needed')"
kill -HUP "$(cat "$DIR/agent.pid")"
for _ in $(seq 50); do grep -q "configuration reloaded" "$DIR/agent.log" && break; sleep 0.1; done
# The line's message and the hash of the settings now in force (heartbeats carry it).
grep "configuration reloaded" "$DIR/agent.log" | tail -1 | sed -E 's/.*(agent\.config-hash=[0-9a-f]{12})[0-9a-f]*.*\] (.*)$/   \2 (\1…)/'

show_archive() {
    echo
    echo "== the tamper-evident archive: CloudTrail log files and signed, chained digests in $DIR/collector/archive"
    (cd "$DIR/collector/archive" && find AWSLogs -name '*.json.gz' | sort | sed 's/^/   /')
    echo "   $ hosttrail validate --dir $DIR/collector/archive --public-key $DIR/collector/keys/*.pub.pem"
    "$BIN/hosttrail" validate --dir "$DIR/collector/archive" --public-key "$DIR"/collector/keys/*.pub.pem \
        --state-file "$DIR/validate-state.json" | sed 's/^/   /'
}

if [ "${DEMO_KEEP:-0}" = "1" ]; then
    sleep 11  # one digest interval
    show_archive
    echo
    echo "collector and agent keep running; stop them with: make demo-stop"
else
    stop  # the collector writes its final log files and a digest covering them as it stops
    show_archive
    echo
    echo "demo done (collector and agent stopped; DEMO_KEEP=1 make demo keeps them running)"
fi
