#!/usr/bin/env bash
# stratad as an NTP client of chronyd, and a server in its turn:
#   chronyd -x (local stratum 1) → stratad -x (iburst) → clients of stratad.
# stratad selects chronyd within 10 s and serves stratum 2 with chronyd's
# address as its reference id; `stratad -Q` and `chronyd -Q` against it see
# an offset under 1 ms; `stratad -Q` against chronyd prints chronyd -Q's line.
#   ntp_client_chronyd.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
stratad=$build/daemon/stratad

cat >"$work/chronyd.conf" <<CONF
local stratum 1
allow 127.0.0.0/8
port 11140
cmdport 0
pidfile $work/chronyd.pid
driftfile $work/chronyd.drift
CONF
chronyd -x -d -u root -f "$work/chronyd.conf" >"$work/chronyd.log" 2>&1 &
chronyd_pid=$!
STARTED_PIDS+=("$chronyd_pid")
wait_udp_port 11140 "$chronyd_pid"

# stratad -Q against chronyd: chronyd -Q's line.
out=$(timeout 20 "$stratad" -Q -t 15 'server 127.0.0.1 port 11140 iburst' 2>&1) || fail "stratad -Q exited $?: $out"
echo "$out" | grep -E "System clock wrong by -?[0-9]+\.[0-9]{6} seconds \(ignored\)" || fail "stratad -Q printed: $out"

# stratad -q: chronyd -q's line. With -x it steps its corrected copy of the
# clock; without, this namespace refuses the step (EPERM): said, exit 1.
out=$(timeout 20 "$stratad" -q -x -t 15 'server 127.0.0.1 port 11140 iburst' 2>&1) || fail "stratad -q -x exited $?: $out"
echo "$out" | grep -E "System clock wrong by -?[0-9]+\.[0-9]{6} seconds \(step\)" || fail "stratad -q printed: $out"
require_private_netns
if out=$(timeout 20 "$stratad" -q -t 15 'server 127.0.0.1 port 11140 iburst' 2>&1); then
	fail "stratad -q stepped the clock in a user namespace? $out"
fi
echo "$out" | grep -q "Could not step the system clock: clock_adjtime ADJ_FREQUENCY: Operation not permitted" ||
	fail "stratad -q without -x printed: $out"
echo "stratad -q without -x: the refused step is reported, exit 1"

cat >"$work/stratad.conf" <<CONF
server 127.0.0.1 port 11140 iburst
allow 127.0.0.0/8
port 11141
pidfile $work/stratad.pid
CONF
start=$(date +%s%N)
"$stratad" -x -d -L -1 -f "$work/stratad.conf" >"$work/stratad.log" 2>&1 &
STRATAD_PID=$!
STARTED_PIDS+=("$STRATAD_PID")
for _ in $(seq 200); do
	grep -q "Selected source 127.0.0.1" "$work/stratad.log" && break
	kill -0 "$STRATAD_PID" 2>/dev/null || fail "stratad exited: $(cat "$work/stratad.log")"
	sleep 0.05
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q "Selected source 127.0.0.1" "$work/stratad.log" || fail "no source selected in 10 s: $(cat "$work/stratad.log")"
echo "stratad selected chronyd after $elapsed_ms ms"
sleep 7  # the iburst samples

# What stratad serves: stratum 2, chronyd's address as reference id, no leap warning.
python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
req = bytearray(48)
req[0] = (4 << 3) | 3
s.sendto(bytes(req), ("127.0.0.1", 11141))
r, _ = s.recvfrom(100)
leap, stratum, refid = r[0] >> 6, r[1], r[12:16]
print(f"stratad serves leap {leap} stratum {stratum} refid {socket.inet_ntoa(refid)}")
assert (leap, stratum, refid) == (0, 2, socket.inet_aton("127.0.0.1")), (leap, stratum, refid)
PY

check_offset() {
	local who=$1 out=$2
	echo "$who: $(echo "$out" | grep "System clock wrong" || true)"
	python3 - "$out" <<'PY' || fail "$who: $out"
import re, sys
m = re.search(r"System clock wrong by ([+-]?\d+\.\d+) seconds", sys.argv[1])
assert m and abs(float(m.group(1))) < 1e-3, sys.argv[1]
PY
}
check_offset "stratad -Q against stratad" "$(timeout 20 "$stratad" -Q -t 15 'server 127.0.0.1 port 11141 iburst' 2>&1)"
check_offset "chronyd -Q against stratad" "$(timeout 20 chronyd -Q -u root -t 15 'server 127.0.0.1 port 11141 iburst' 2>&1)"

stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")

# Without -x, in this namespace the kernel refuses clock changes (EPERM):
# stratad says so, leaves the clock alone and still measures and serves.
require_private_netns
printf 'server 127.0.0.1 port 11140 iburst\nport 0\npidfile %s/nox.pid\n' "$work" >"$work/nox.conf"
"$stratad" -d -f "$work/nox.conf" >"$work/nox.log" 2>&1 &
nox_pid=$!
STARTED_PIDS+=("$nox_pid")
# Selected from the third sample of the iburst (about 4 s), as chronyd.
for _ in $(seq 100); do
	grep -q "Selected source 127.0.0.1" "$work/nox.log" && break
	sleep 0.1
done
stop_pid "$nox_pid" || fail "stratad without -x exited $?"
grep -q "Not allowed to control the system clock (clock_adjtime ADJ_FREQUENCY: Operation not permitted)" \
	"$work/nox.log" || fail "no EPERM fallback line: $(cat "$work/nox.log")"
grep -q "Selected source 127.0.0.1" "$work/nox.log" || fail "without -x: no source selected"
echo "without -x: EPERM reported, measuring only"

# Names: `pool localhost` and `server localhost` resolve (from /etc/hosts);
# a name that does not resolve is logged and skipped.
printf 'pool localhost port 11140 iburst\nserver nonexistent.invalid iburst\nport 0\npidfile %s/n.pid\n' "$work" \
	>"$work/names.conf"
"$stratad" -x -d -f "$work/names.conf" -t 7 >"$work/names.log" 2>&1 || fail "stratad (names) exited $?"
grep -q "Selected source 127.0.0.1 (localhost)" "$work/names.log" || fail "pool localhost: $(cat "$work/names.log")"
grep -q "Could not resolve nonexistent.invalid" "$work/names.log" || fail "no resolver error logged"
echo "names: pool localhost selected, an unresolvable name logged"

# The drift file: chronyd's format is read; a corrupt one is reported and
# replaced only once the frequency is measured; the new one is valid.
printf '           -3.827453             0.056102\n' >"$work/drift"
printf 'server 127.0.0.1 port 11140 iburst\nport 0\ndriftfile %s/drift\npidfile %s/d.pid\n' "$work" "$work" \
	>"$work/drift.conf"
"$stratad" -x -d -f "$work/drift.conf" -t 1 >"$work/drift.log" 2>&1 || fail "stratad -t 1 exited $?"
grep -q "Frequency -3.827 +/- 0.056 ppm read from $work/drift" "$work/drift.log" ||
	fail "drift file not read: $(cat "$work/drift.log")"
printf 'garbage\n' >"$work/drift"
"$stratad" -x -d -f "$work/drift.conf" -t 0.2 >"$work/drift.log" 2>&1 || true
grep -q "Could not read valid frequency and skew from driftfile $work/drift" "$work/drift.log" ||
	fail "corrupt drift file not reported: $(cat "$work/drift.log")"
[ "$(cat "$work/drift")" = garbage ] || fail "the corrupt drift file was overwritten before any measurement"
"$stratad" -x -d -f "$work/drift.conf" -t 8 >"$work/drift.log" 2>&1 || fail "stratad -t 8 exited $?"
python3 - "$work/drift" <<'PY' || fail "drift file after a measured run: $(cat "$work/drift")"
import sys
freq, skew = (float(x) for x in open(sys.argv[1]).read().split())
assert abs(freq) < 500 and 0 <= skew < 1e6
PY
[ ! -e "$work/drift.tmp" ] || fail "temporary drift file left behind"
echo "drift file: read, corrupt one kept until measured, then written: $(cat "$work/drift" | xargs)"

# initstepslew: its host is polled on NTP's port (a chronyd on port 123
# here) as an iburst server of its own; the first estimate slews the clock
# (an offset far below 10 s) and says so as chronyd does; then the
# configured server takes over.
start_chronyd_server "$work" c123 123
printf 'initstepslew 10 127.0.0.1\nserver 127.0.0.1 port 11140 iburst\nport 0\npidfile %s/i.pid\n' "$work" \
	>"$work/init.conf"
"$stratad" -x -d -f "$work/init.conf" -t 14 >"$work/init.log" 2>&1 || fail "stratad (initstepslew) exited $?"
grep -qE "System's initial offset : [0-9]+\.[0-9]{6} seconds (fast|slow) of true \(slew\)" "$work/init.log" ||
	fail "initstepslew: $(cat "$work/init.log")"
# Selected twice: the initstepslew host, then the configured server.
[ "$(grep -c "Selected source 127.0.0.1" "$work/init.log")" -ge 2 ] ||
	fail "initstepslew: the configured server was not selected: $(cat "$work/init.log")"
echo "initstepslew: $(grep "initial offset" "$work/init.log" | cut -d' ' -f2-)"

# fallbackdrift: updates every second fill the 2 s and 4 s levels; when the
# server goes away, the 2 s level takes over after 2 s of silence.
printf 'local stratum 1\nallow 127.0.0.0/8\nport 11145\ncmdport 0\npidfile %s/c3.pid\n' "$work" >"$work/c3.conf"
chronyd -x -d -u root -f "$work/c3.conf" >"$work/c3.log" 2>&1 &
c3_pid=$!
STARTED_PIDS+=("$c3_pid")
wait_udp_port 11145 "$c3_pid"
printf 'server 127.0.0.1 port 11145 minpoll 0 maxpoll 0\nfallbackdrift 1 2\nport 0\npidfile %s/f.pid\n' "$work" \
	>"$work/fb.conf"
"$stratad" -x -d -L -1 -f "$work/fb.conf" >"$work/fb.log" 2>&1 &
fb_pid=$!
STARTED_PIDS+=("$fb_pid")
for _ in $(seq 300); do
	[ "$(grep -c "Clock update from" "$work/fb.log")" -ge 10 ] && break
	sleep 0.05
done
[ "$(grep -c "Clock update from" "$work/fb.log")" -ge 10 ] || fail "fallbackdrift: too few updates: $(cat "$work/fb.log")"
stop_pid "$c3_pid" || true
for _ in $(seq 100); do
	grep -q "Fallback drift 1 active" "$work/fb.log" && break
	sleep 0.05
done
grep -q "Fallback drift 1 active" "$work/fb.log" || fail "fallbackdrift: no fallback after the server stopped: $(tail -5 "$work/fb.log")"
stop_pid "$fb_pid" || fail "stratad (fallbackdrift) did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")
echo "fallbackdrift: $(grep -o "Fallback drift 1 active.*" "$work/fb.log")"

# Source options: minstratum raises the stratum stratad serves (4 + 1);
# filter, burst, presend, maxdelayratio, mindelay and asymmetry leave it
# synchronised; an option strata does not act on yet is named in the log.
cat >"$work/opts.conf" <<CONF
server 127.0.0.1 port 11140 iburst minpoll 0 maxpoll 1 minstratum 4 filter 2 burst presend 6 maxdelayratio 50 mindelay 0.00001 asymmetry 0.1 xleave
allow 127.0.0.0/8
port 11142
pidfile $work/opts.pid
CONF
"$stratad" -x -d -f "$work/opts.conf" >"$work/opts.log" 2>&1 &
opts_pid=$!
STARTED_PIDS+=("$opts_pid")
for _ in $(seq 300); do
	grep -q "Selected source 127.0.0.1" "$work/opts.log" && break
	sleep 0.05
done
grep -q "Selected source 127.0.0.1" "$work/opts.log" || fail "with options: not selected: $(cat "$work/opts.log")"
grep -q "Source 127.0.0.1: option xleave is not supported by strata yet; ignored" "$work/opts.log" ||
	fail "no warning for xleave: $(cat "$work/opts.log")"
python3 - <<'PY' || fail "with options: wrong stratum served"
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
req = bytearray(48)
req[0] = (4 << 3) | 3
for _ in range(20):
    s.sendto(bytes(req), ("127.0.0.1", 11142))
    r, _ = s.recvfrom(100)
    if r[1] != 0:
        break
    time.sleep(0.5)
print(f"with minstratum 4: stratad serves stratum {r[1]}")
assert r[1] == 5, r[1]
PY
stop_pid "$opts_pid" || fail "stratad (options) did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")

# Pool replacement: `testpool` (in this mount namespace's /etc/hosts) has two
# addresses; only the one getaddrinfo gives second has a server. With
# maxsources 1 the pool starts with the silent one and replaces it after 8
# unanswered requests (minpoll 0: 1 s apart).
require_private_netns
printf '127.0.0.5 testpool\n127.0.0.6 testpool\n' >"$work/hosts"
mount --bind "$work/hosts" /etc/hosts || fail "cannot bind-mount /etc/hosts in the test's mount namespace"
read -r silent answering < <(python3 -c '
import socket
a = [x[4][0] for x in socket.getaddrinfo("testpool", 123, socket.AF_INET, socket.SOCK_DGRAM)]
print(*dict.fromkeys(a))')
[ -n "$answering" ] || fail "testpool did not resolve to two addresses"
printf 'local stratum 1\nallow 127.0.0.0/8\nbindaddress %s\nport 11144\ncmdport 0\npidfile %s/c2.pid\n' \
	"$answering" "$work" >"$work/c2.conf"
chronyd -x -d -u root -f "$work/c2.conf" >"$work/c2.log" 2>&1 &
c2_pid=$!
STARTED_PIDS+=("$c2_pid")
wait_udp_port 11144 "$c2_pid"
printf 'pool testpool port 11144 maxsources 1 minpoll 0 maxpoll 0\nport 0\npidfile %s/p.pid\n' "$work" >"$work/pool.conf"
"$stratad" -x -d -f "$work/pool.conf" -t 20 >"$work/pool.log" 2>&1 || fail "stratad (pool) exited $?"
grep -q "Added source $silent (testpool)" "$work/pool.log" || fail "pool did not start with $silent: $(cat "$work/pool.log")"
grep -q "Source $silent replaced with $answering (testpool)" "$work/pool.log" ||
	fail "the silent pool member was not replaced: $(cat "$work/pool.log")"
grep -q "Selected source $answering (testpool)" "$work/pool.log" || fail "replacement not selected: $(cat "$work/pool.log")"
stop_pid "$c2_pid" || true
STARTED_PIDS=("$chronyd_pid")
echo "pool: $silent (silent) replaced with $answering, which was selected"

stop_pid "$chronyd_pid" || true
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_client_chronyd: ok"
