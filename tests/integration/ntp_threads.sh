#!/usr/bin/env bash
# `serverthreads 2`: two worker threads with their own SO_REUSEPORT sockets
# (two per address family) answer every request from 64 IPv4 clients, and
# from ::1, with the local reference; stratad still exits cleanly.
#   ntp_threads.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
port=11129

cat >"$work/s.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
allow ::1
port $port
cmdport 0
serverthreads 2
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port $port "$STRATAD_PID"
threads=$(ls /proc/"$STRATAD_PID"/task | wc -l)
[ "$threads" -ge 3 ] || fail "stratad runs $threads threads, expected the main one and 2 workers"
sockets=$(ss -Hlun "sport = :$port" | wc -l)
[ "$sockets" = 4 ] || fail "$sockets sockets on port $port, expected 2 per family"

out=$("$build/tools/ntpload" --port $port --rate 5000 --duration 1 --clients 64 --json)
echo "$out"
python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["sent"] >= 4500, r
assert r["received"] == r["sent"], "lost answers with 2 threads"
assert r["unsynchronized"] == 0 and r["malformed"] == 0, r
PY
python3 - $port <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(2)
req = bytearray(48)
req[0] = (4 << 3) | 3
s.sendto(bytes(req), ("::1", int(sys.argv[1])))
reply, _ = s.recvfrom(100)
assert len(reply) == 48 and reply[1] == 3, reply
print("IPv6: stratum", reply[1])
PY
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
grep -q "stratad exiting" "$work/stratad.log" || fail "no exit message"
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_threads: ok"
