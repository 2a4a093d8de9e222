#!/usr/bin/env bash
# The transmit timestamp of every reply is taken at that reply's send, after
# any batch delay (read just before a call of a few replies, each stamped at
# its place in the call): requests held by `serverbatchdelay` get
# replies whose transmit time is later than their receive time by the hold,
# and the clock offset a client computes from them (client and server share
# this host's clock: the truth is 0) stays as small as for a request answered
# alone. One clock reading for a whole batch before one sendmmsg() fails
# this: on loopback each datagram is delivered within the send, so the last
# replies of a batch of 20 leave tens of microseconds after their stamp.
# Saturated, the calls are longer: the median offset stays small there too.
#   ntp_transmit_time.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
port=11138

cat >"$work/s.conf" <<CONF
local stratum 2
allow 127.0.0.0/8
port $port
cmdport 0
serverbatchdelay 2000
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port $port "$STRATAD_PID"

# Alone: 100 requests a second, each answered at once (the reference).
alone=$("$build/tools/ntpload" --port $port --rate 100 --duration 2 --clients 8 --json)
echo "alone: $alone"
# Busy: 10,000 a second in bursts of 5 every 0.5 ms; each read finds a few
# and waits for the rest of the 2 ms, so batches of about 20 are answered.
busy=$("$build/tools/ntpload" --port $port --rate 10000 --tick 500 --duration 2 --clients 256 --json)
echo "busy: $busy"
# Saturated: 256 requests in flight, answered as fast as the server can,
# several to a sendmmsg() (each stamped at its own place in the call).
full=$("$build/tools/ntpload" --port $port --window 256 --duration 1 --clients 256 --json)
echo "full: $full"
# A sanitizer build checks the path, not its timing: ASan's interceptor of
# sendmmsg() looks over every message of a call between the call's clock
# reading and the kernel's first send, microseconds the release build does
# not spend.
sanitized=0
if ldd "$build/daemon/stratad" 2>/dev/null | grep -q libasan; then
	sanitized=1
	echo "sanitizer build: offsets printed, not checked"
fi
python3 - "$alone" "$busy" "$full" "$sanitized" <<'PY'
import json, sys
alone, busy, full = (json.loads(a) for a in sys.argv[1:4])
sanitized = sys.argv[4] == "1"
for r in (alone, busy, full):
    assert r["received"] == r["sent"] and r["sent"] > 0, ("lost answers", r)
    # Every request and response stamped by the kernel: the offsets are
    # the server's, not this tool's scheduling.
    assert r["tx_stamped"] == r["sent"] and r["rx_stamped"] == r["received"], ("no kernel stamps", r)
    assert r["offset_us"]["count"] == r["received"], r
# Held: the transmit timestamps come after the hold (2 ms at most).
assert busy["server_time_us"]["p50"] >= 300, ("requests under load were not held", busy)
assert alone["server_time_us"]["p50"] < 300, ("a lone request was held", alone)
a, b = alone["offset_us"], busy["offset_us"]
print(f"offset alone p1 {a['p1']:+.1f} p50 {a['p50']:+.1f} us; busy p1 {b['p1']:+.1f} p50 {b['p50']:+.1f} "
      f"p99 {b['p99']:+.1f} us")
f = full["offset_us"]
print(f"offset saturated p1 {f['p1']:+.1f} p50 {f['p50']:+.1f} p99 {f['p99']:+.1f} us")
if not sanitized:
    # A client sees about what it sees alone: the hold is in the
    # timestamps, not in its error. (A stamp per batch: busy p50 -10 us or
    # worse, p1 -20.)
    assert abs(b["p50"]) <= 5, ("the typical reply is stamped before it is sent", b)
    assert b["p1"] >= min(a["p1"], -2) - 8, ("replies late in their batch are stamped early", a, b)
    assert b["p99"] <= 10, b
    # Saturated, the median reply too is stamped when it leaves (one stamp
    # for 64 replies: -20 us or worse), and none far from it.
    assert abs(f["p50"]) <= 5, ("replies stamped before they are sent", f)
    assert f["p1"] >= -25 and f["p99"] <= 10, f
PY
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_transmit_time: ok"
