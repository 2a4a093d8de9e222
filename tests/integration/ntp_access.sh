#!/usr/bin/env bash
# Access control and rate limiting of the NTP server: a client outside
# `allow` gets no answer at all; a client over `ratelimit` gets most requests
# dropped and, with `kod`, KoD RATE replies; an allowed client under the limit
# gets every answer.
#   ntp_access.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
port=11125

# ntpload's sources: client 0 = 127.1.0.1, 1 = 127.1.0.2, 2 = 127.1.0.3.
cat >"$work/s.conf" <<CONF
local stratum 3
allow 127.1.0.0/24
deny 127.1.0.2
port $port
cmdport 0
ratelimit interval 4 burst 4 leak 4 kod 1
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port $port "$STRATAD_PID"

load() {
	"$build/tools/ntpload" --port $port --clients 1 --json "$@"
}
field() {
	python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"
}

# Allowed, under the limit: 3 requests fit in the burst of 4.
ok=$(load --first-client 2 --rate 10 --duration 0.3)
echo "allowed: $ok"
[ "$(field "$ok" received)" = "$(field "$ok" sent)" ] || fail "an allowed client lost answers"
[ "$(field "$ok" kod)" = 0 ] || fail "an allowed client under the limit got a KoD"

# Denied: no answer at all.
denied=$(load --first-client 1 --rate 50 --duration 1 --drain 1)
echo "denied: $denied"
[ "$(field "$denied" sent)" -ge 40 ] || fail "too few requests sent"
[ "$(field "$denied" received)" = 0 ] || fail "a client outside allow got answers"

# Over the limit: 200 requests in 2 s against 4 + 2/16 s allowed.
limited=$(load --first-client 0 --rate 100 --duration 2)
echo "limited: $limited"
python3 - "$limited" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
sent, got, kod = r["sent"], r["received"], r["kod_rate"]
normal = got - r["kod"]
# burst 4, then leaks (1/16) and KoD RATE (1/2 of the rest) at random.
assert sent >= 190, r
assert 4 <= normal <= 4 + sent // 4, f"{normal} normal answers of {sent}"
assert kod >= sent // 5, f"only {kod} KoD RATE of {sent}"
assert r["kod"] == kod, "a KoD other than RATE"
PY
grep -q "exiting" "$work/stratad.log" && fail "stratad exited early"
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_access: ok"
