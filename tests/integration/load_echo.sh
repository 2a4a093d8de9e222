#!/usr/bin/env bash
# The load generator against the bare UDP echo, inside a private network
# namespace: at a modest offered rate every request comes back, from every
# source address, and the JSON report says so; with --tick too (requests sent
# on the tool's own 1 ms clock, whatever the responses do).
#   load_echo.sh BUILD_DIR
set -euo pipefail
build=${1:?build dir}
port=11998
"$build/tools/udp_echo" --port $port &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	ss -Hlun "sport = :$port" | grep -q . && break
	sleep 0.1
done
out=$("$build/tools/ntpload" --port $port --rate 5000 --duration 1 --clients 20 --server-pid $echo_pid --json)
echo "$out"
python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["sent"] >= 4500, f"sent only {r['sent']} at 5000/s"
assert r["received"] == r["sent"], "echo lost requests on loopback"
assert r["loss_percent"] == 0
assert r["malformed"] == 0 and r["unmatched"] == 0
assert 0 < r["latency_us"]["p50"] <= r["latency_us"]["p99"] <= r["latency_us"]["max"]
assert r["server_rss_kib"] > 0 and r["server_cpu_us_per_response"] >= 0
PY
# --tick 1000 at 5,000/s: bursts of 5 every millisecond, all answered; the
# total matches the rate (the clock does not drift with the responses).
ticked=$("$build/tools/ntpload" --port $port --rate 5000 --duration 1 --tick 1000 --clients 20 --json)
echo "$ticked"
python3 - "$ticked" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert 4900 <= r["sent"] <= 5010, f"sent {r['sent']} in 1 s at 5000/s with --tick"
assert r["received"] == r["sent"] and r["malformed"] == 0 and r["unmatched"] == 0, r
print("load_echo: ok")
PY
