#!/usr/bin/env bash
# stratad against 10,000 random and mutated packets (tests/integration/
# ntp_hostile.py): it stays up, answers only what a server may answer and
# never with more bytes than it got, logs the malformed packets (rate
# limited), answers a valid request afterwards, and exits cleanly.
#   ntp_hostile.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(dirname "$0")
. "$here/lib.sh"
work=$(mktemp -d)
port=11127

cat >"$work/s.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
port $port
cmdport 0
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port $port "$STRATAD_PID"

python3 "$here/ntp_hostile.py" $port "$STRATAD_PID" 10000 "${STRATA_HOSTILE_SEED:-1}"
grep -q "Dropped malformed NTP packet from 127.0.0.1" "$work/stratad.log" ||
	{ cat "$work/stratad.log"; fail "no log line for the malformed packets"; }
lines=$(wc -l <"$work/stratad.log")
[ "$lines" -lt 20 ] || { cat "$work/stratad.log"; fail "$lines log lines: the malformed-packet log is not rate limited"; }
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
grep -q "stratad exiting" "$work/stratad.log" || fail "no exit message"
[ ! -e "$work/stratad.pid" ] || fail "pid file left behind"
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_hostile: ok"
