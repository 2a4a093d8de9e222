#!/usr/bin/env bash
# `serverbatchdelay`: under load stratad waits up to that long after a read
# that found two requests or more before reading again, and answers what has
# gathered in one batch; a request that comes alone is answered at once.
# With a 4 ms delay, 5,000 requests a second are all answered, half of them
# after 1 ms or more; 20 requests a second, one at a time, are not held.
#   ntp_batch_delay.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
port=11137

cat >"$work/s.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
port $port
cmdport 0
serverbatchdelay 4000
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port $port "$STRATAD_PID"

busy=$("$build/tools/ntpload" --port $port --rate 5000 --duration 1 --clients 64 --json)
echo "busy: $busy"
alone=$("$build/tools/ntpload" --port $port --rate 20 --duration 1 --clients 4 --json)
echo "alone: $alone"
python3 - "$busy" "$alone" <<'PY'
import json, sys
busy, alone = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert busy["sent"] >= 4500 and busy["received"] == busy["sent"], ("lost answers", busy)
assert busy["unsynchronized"] == 0 and busy["malformed"] == 0, busy
# Arrivals spread evenly over a 4 ms wait: the median waits about 2 ms.
assert busy["latency_us"]["p50"] >= 1000, ("requests under load were not held", busy)
assert alone["received"] == alone["sent"] and alone["sent"] >= 15, alone
# One request at a time is never held (4 ms); 2 ms leaves room for a slow CI.
assert alone["latency_us"]["p50"] < 2000, ("a lone request was held", alone)
PY
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_batch_delay: ok"
