#!/usr/bin/env bash
# Installs what zonewatch's quick start and tests need on a Debian machine, skipping what is already there:
# Debian packages, the Go toolchain's modules, the embedded ClickHouse library (npm, pinned and verified)
# and the Grafana plugin's npm packages. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CHDB_VERSION="26.7.3-stable.1"
CHDB_TGZ_SHA256="c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/zonewatch"
export ZONEWATCH_CHDB_LIB="${ZONEWATCH_CHDB_LIB:-$CACHE/chdb/$CHDB_VERSION/libchdb.so}"

log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
for pair in logger:bsdutils rsyslogd:rsyslog squid:squid pdftoppm:poppler-utils pdftotext:poppler-utils \
            curl:curl node:nodejs npm:npm systemd-analyze:systemd git:git gcc:gcc; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need_apt+=("$pkg")
done
[ -f /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ] || need_apt+=(fonts-ipaexfont-gothic)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"
  else log "installing Go from Debian"; apt-get install -y -qq golang-go >/dev/null; fi
fi
log "fetching Go modules"
go mod download

if [ ! -s "$ZONEWATCH_CHDB_LIB" ]; then
  mkdir -p "$CACHE/chdb"
  tgz="$CACHE/chdb/chdb-lib-linux-x64-gnu-$CHDB_VERSION.tgz"
  if [ ! -s "$tgz" ] || ! echo "$CHDB_TGZ_SHA256  $tgz" | sha256sum -c --quiet - 2>/dev/null; then
    log "fetching the embedded ClickHouse engine (@chdb/lib-linux-x64-gnu@$CHDB_VERSION, 178 MB) with npm"
    rm -f "$tgz"
    (cd "$CACHE/chdb" && npm pack --silent "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null)
  fi
  echo "$CHDB_TGZ_SHA256  $tgz" | sha256sum -c --quiet - || { log "checksum mismatch for $tgz: delete it and run again"; exit 1; }
  dir=$(dirname "$ZONEWATCH_CHDB_LIB")
  mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1 package/libchdb.so
  log "embedded ClickHouse library at $ZONEWATCH_CHDB_LIB"
fi

# The Grafana plugin's npm packages, exactly as package-lock.json pins them; npm ci runs again only when
# the lock file changed since the last install (its checksum is kept in node_modules).
plugin=dashboards/plugin
if [ -f "$plugin/package-lock.json" ]; then
  lock_sum=$(sha256sum "$plugin/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$plugin/node_modules/.zonewatch-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    log "installing the Grafana plugin's npm packages (npm ci)"
    (cd "$plugin" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$plugin/node_modules/.zonewatch-lock.sha256"
  fi
fi
