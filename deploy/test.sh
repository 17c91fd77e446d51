#!/usr/bin/env bash
# Runs every test of zonewatch against real services: go vet, the Go tests (embedded ClickHouse 26.7 and
# NATS JetStream started by the tests themselves; rsyslog, squid and logger from Debian), and the rule
# pack's own tests, and the Grafana plugin's (Jest tests, npm run build, dist check). It installs what is
# missing first. Under CI=true a test whose service is missing fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
export ZONEWATCH_CHDB_LIB="${ZONEWATCH_CHDB_LIB:-${XDG_CACHE_HOME:-$HOME/.cache}/zonewatch/chdb/26.7.3-stable.1/libchdb.so}"
export PATH="/usr/local/go/bin:/usr/sbin:$PATH"

echo "== go vet"
go vet ./...
echo "== the default rule pack: lint and its own tests"
go run . rules lint rules/default
go run . rules test rules/default
echo "== systemd units: systemd-analyze verify, exposure, capabilities, sysusers"
./deploy/systemd/verify.sh
echo "== the Grafana plugin: frontend tests, build (module.js and the backend executables), dist check"
(cd dashboards/plugin && npm run --silent test:ci && npm run --silent build && npm run --silent check-dist)
echo "== go test"
go test -count=1 -timeout 45m ./...
