#!/usr/bin/env bash
# Checks the systemd units as systemd loads them, without installing anything: `systemd-analyze verify`
# on every instance (with its drop-ins), an exposure ceiling from `systemd-analyze security --offline`,
# that only the instances binding port 514 hold CAP_NET_BIND_SERVICE, and the sysusers file.
# systemd-analyze needs ExecStart's binary to exist, so the units are checked as copies whose ExecStart
# names a freshly built zonewatch (or the binary given as $1). It prints warnings with rc 0, so any output
# counts as a failure here.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/zonewatch-units.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=${1:-}
if [ -z "$bin" ]; then
  go build -o "$work/zonewatch" .
  bin="$work/zonewatch"
fi
cp -r deploy/systemd "$work/units"
sed -i "s|^ExecStart=/usr/local/bin/zonewatch |ExecStart=$bin |" "$work/units/zonewatch@.service"
grep -q "^ExecStart=$bin serve" "$work/units/zonewatch@.service" || { echo "verify: ExecStart not found in zonewatch@.service"; exit 1; }
export SYSTEMD_UNIT_PATH="$work/units:"
# The command line the unit and its environment files use must exist in this binary.
help=$("$bin" serve --help)
for flag in --role --api-listen --config; do
  grep -q -- "$flag" <<<"$help" || { echo "FAIL zonewatch serve has no $flag, which deploy/systemd uses"; exit 1; }
done

status=0
fail() { echo "FAIL $*"; status=1; bad=1; }
for inst in all ingest writer rules api rules-1; do
  unit="zonewatch@$inst.service"
  bad=0
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "$unit: systemd-analyze verify exited $?"
  [ -z "$out" ] || fail "$unit: $out"
  # Exposure is 0.0 (locked down) to 10.0 (unprotected); the threshold is in tenths.
  if ! sec=$(systemd-analyze security --offline=yes --threshold=25 "$unit" 2>&1); then
    echo "$sec" | grep -E '✗|Overall' ; fail "$unit: exposure above 2.5"
  fi
  bind=$(echo "$sec" | grep -F 'CAP_NET_(BIND_SERVICE' || true)
  case "$inst:$bind" in
    ingest:✗*|all:✗*) ;;
    ingest:*|all:*) fail "$unit: no CAP_NET_BIND_SERVICE for syslog on 514 (drop-in not applied?)" ;;
    *:✓*) ;;
    *) fail "$unit: holds CAP_NET_BIND_SERVICE it does not need" ;;
  esac
  [ $bad -eq 1 ] || echo "ok   $unit ($(echo "$sec" | grep -o 'exposure level.*'))"
done

bad=0
mkdir -p "$work/root/etc"
out=$(systemd-sysusers --root="$work/root" "$PWD/deploy/systemd/zonewatch.sysusers" 2>&1) || fail "zonewatch.sysusers: $out"
grep -q '^zonewatch:x:[0-9]*:[0-9]*:.*:/var/lib/zonewatch:/usr/sbin/nologin$' "$work/root/etc/passwd" || fail "zonewatch.sysusers made no zonewatch user"
[ $bad -eq 1 ] || echo "ok   zonewatch.sysusers"
exit $status
