#!/usr/bin/env bash
# User and kernel CPU time per response of the UDP echo and of stratad under
# the same load, from /proc/PID/stat (utime, stime), one run per rate.
#   tests/integration/in_netns.sh tools/bench/cpu_split.sh BUILD_DIR [RATE...]
# RATE 0 = closed loop. Runs only inside a private network namespace.
set -euo pipefail
build=$(realpath "${1:?build dir}")
shift
rates=("${@:-100000 0}")
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "run me inside tests/integration/in_netns.sh" >&2; exit 1; }
port=12124
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'local stratum 1\nallow all\nport %s\ncmdport 0\npidfile %s/stratad.pid\n' $port "$work" >"$work/s.conf"
tick_us=$((1000000 / $(getconf CLK_TCK)))

measure() {
	local name=$1 rate=$2 pid u0 s0 u1 s1 out n
	shift 2
	"$@" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do ss -Hlun "sport = :$port" | grep -q . && break; sleep 0.05; done
	sleep 0.5
	read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
	out=$("$build/tools/ntpload" --port $port --rate "$rate" --duration 3 --clients 64 --batch 64 --json)
	read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
	kill $pid
	wait $pid 2>/dev/null || true
	n=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["received"])' "$out")
	python3 - "$name" "$rate" "$n" $(((u1 - u0) * tick_us)) $(((s1 - s0) * tick_us)) <<'PY'
import sys
name, rate, n, user_us, sys_us = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"| {name} | {rate or 'max'} | {n} | {user_us / n:.3f} | {sys_us / n:.3f} |")
PY
}

echo "| responder | offered/s | responses | user µs/response | kernel µs/response |"
echo "|---|---|---|---|---|"
for rate in ${rates[@]}; do
	measure echo "$rate" "$build/tools/udp_echo" --port $port
	measure stratad "$rate" "$build/daemon/stratad" -x -d -f "$work/s.conf"
done
