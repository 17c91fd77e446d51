#!/usr/bin/env bash
# The quick start: installs what is missing, starts the embedded ClickHouse and zonewatch with an embedded
# NATS JetStream, replays a realistic day of logs from all three zones, tells you where to look, and stays
# in the foreground until Ctrl-C, which stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
export PATH="/usr/local/go/bin:$PATH"

# The quick start runs with the commented example configuration; its data goes under data/ (relative
# paths in the file), which you may delete to start afresh.
CONFIG=deploy/zonewatch.example.yaml
DATA=data
mkdir -p "$DATA"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "Building zonewatch"
go build -o bin/zonewatch .

say "Starting zonewatch (embedded ClickHouse 26.7 + embedded NATS JetStream)"
rm -f "$DATA/ready.json"
bin/zonewatch serve --config "$CONFIG" --ready-file "$DATA/ready.json" 2> "$DATA/zonewatch.log" &
ZW=$!
cleanup() {
  trap '' INT TERM # a second Ctrl-C must not cut the flush short
  say "Stopping zonewatch (flushing what it accepted)"
  kill -TERM "$ZW" 2>/dev/null || true
  wait "$ZW" 2>/dev/null || true
  echo "Stopped. Data stays in $DATA; delete that folder to start afresh."
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 120); do
  [ -s "$DATA/ready.json" ] && break
  kill -0 "$ZW" 2>/dev/null || { echo "zonewatch exited; its log:"; tail -30 "$DATA/zonewatch.log"; exit 1; }
  sleep 0.5
done
[ -s "$DATA/ready.json" ] || { echo "zonewatch did not become ready in 60 s; its log:"; tail -30 "$DATA/zonewatch.log"; exit 1; }

q() { curl -sS --fail-with-body 'http://127.0.0.1:18123/' --data-binary "$1"; }

DAY="${ZONEWATCH_QUICKSTART_DAY:-2026-11-02}"
say "Replaying one simulated day ($DAY, Asia/Tokyo) of the three zones' logs over TCP syslog"
bin/zonewatch simulate --seed 42 --from "${DAY}T00:00:00+09:00" --to "${DAY}T23:59:59+09:00" \
  --tcp 127.0.0.1:5514 --framing octet --truth "$DATA/ground-truth.jsonl"

say "Waiting for the events to reach ClickHouse"
# Done when ingest has stopped publishing and the writer has stored all it published (zonewatch's own
# counters, so a slow machine is waited for rather than shown half the day).
metric() { curl -s http://127.0.0.1:7480/metrics | awk -v m="$1" '$1 == m {printf "%d", $2}'; }
prev=-1
for _ in $(seq 1 300); do
  published=$(metric 'zonewatch_ingest_published_total{stream="ZW_EVENTS"}')
  stored=$(metric zonewatch_writer_rows_inserted_total)
  [ -n "$published" ] && [ "$published" = "$stored" ] && [ "$published" = "$prev" ] && break
  prev=$published; sleep 1
done
echo "$stored events stored (of $published published)"

say "Events stored, by source and destination zone"
q "SELECT source_zone AS src, destination_zone AS dst, count() AS events, countIf(outcome = 'failure') AS denied
   FROM zonewatch.events GROUP BY src, dst ORDER BY events DESC LIMIT 20 FORMAT PrettyCompactMonoBlock"
say "Denied attempts out of the mynumber zone (the policy allows none)"
q "SELECT toTimeZone(timestamp, 'Asia/Tokyo') AS time_jst, observer_host, replaceRegexpOne(IPv6NumToString(source_ip), '^::ffff:', '') AS source,
          replaceRegexpOne(IPv6NumToString(destination_ip), '^::ffff:', '') AS destination, destination_port AS port, destination_zone AS zone, action
   FROM zonewatch.events WHERE source_zone = 'mynumber' AND cross_zone AND outcome = 'failure'
   ORDER BY timestamp LIMIT 10 FORMAT PrettyCompactMonoBlock"

say "Alerts raised by the default rule pack"
# The rules stage reads the same stream as the writer: wait until it has evaluated every stored event.
for _ in $(seq 1 120); do
  evaluated=$(curl -s http://127.0.0.1:7480/metrics | awk '/^zonewatch_rules_events_total/ {printf "%d", $2}')
  [ "${evaluated:-0}" -ge "$stored" ] && break
  sleep 1
done
sleep 1
q "SELECT severity, rule_id, title_ja, count() AS alerts, min(toTimeZone(first_seen, 'Asia/Tokyo')) AS first_jst
   FROM zonewatch.alerts FINAL GROUP BY severity, rule_id, title_ja
   ORDER BY indexOf(['critical','high','medium','low','info'], severity), alerts DESC FORMAT PrettyCompactMonoBlock"

NEXT=$(date -d "$DAY + 1 day" +%F)
say "The analyst's terminal: zonewatch query, the rule language as the filter (every query audited)"
echo "What left the mynumber zone that day, by destination (approved: rules/default/lists/approved_mynumber_destinations.txt):"
echo "\$ zonewatch query 'source.zone == \"mynumber\" and destination.zone in [\"lgwan\", \"internet\"]' \\"
echo "    --from $DAY --to $NEXT --group-by destination.ip --group-by destination.port --group-by event.outcome --agg count"
bin/zonewatch query --config "$CONFIG" --log-level warn 'source.zone == "mynumber" and destination.zone in ["lgwan", "internet"]' \
  --from "$DAY" --to "$NEXT" --group-by destination.ip --group-by destination.port --group-by event.outcome --agg count

MONTH="${DAY%-*}"
say "The committee's monthly report (月次監視報告) for $MONTH, so far"
bin/zonewatch report --config "$CONFIG" --log-level warn --month "$MONTH" --out "$DATA/report" | grep -v /csv-
echo "(and one CSV file per table in $DATA/report/csv-$MONTH/)"

cat <<TXT

Where to look next
  Monthly report (PDF):      $DATA/report/ (zonewatch report --month YYYY-MM; also HTML, CSV, XLSX)
  Grafana:                   dashboards/README.md (build the plugin: cd dashboards/plugin && npm ci && npm run build;
                             provisioning in deploy/grafana/)
  ClickHouse SQL over HTTP:  curl 'http://127.0.0.1:18123/' --data-binary 'SELECT count() FROM zonewatch.events'
  ClickHouse native:         127.0.0.1:19000 (database zonewatch, user default, no password)
  Metrics (Prometheus):      http://127.0.0.1:7480/metrics
  Query API:                 http://127.0.0.1:7480/api/v1/ (query/api/openapi.yaml; tokens: api.tokens_file)
  Rule pack:                 rules/default (zonewatch rules lint / rules test)
  Send your own syslog:      logger --server 127.0.0.1 --port 5514 --tcp --rfc5424 --octet-count 'hello'
  Labelled incidents:        $DATA/ground-truth.jsonl
  zonewatch's log:           $DATA/zonewatch.log

zonewatch keeps running; press Ctrl-C to stop it.
TXT
wait "$ZW"
