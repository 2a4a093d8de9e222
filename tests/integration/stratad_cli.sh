#!/usr/bin/env bash
# stratad as a process: -p over the configuration fixtures, chronyd's flags,
# the pid file, signals, -t, daemon mode and command-line directives.
#   stratad_cli.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
golden=$here/../golden/conf
stratad=$build/daemon/stratad
work=$(mktemp -d)

# -p prints every good fixture back in canonical form, exit 0. A fixture
# with a NAME.refused file has sources strata refuses to poll as configured
# (a `key` the keyfile lacks, `nts`): exit 1 with exactly those FILE:LINE:
# errors, the configuration still printed.
for f in "$golden"/good/*.conf; do
	refused=${f%.conf}.refused
	status=0
	out=$("$stratad" -p -f "$f" 2>"$work/err") || status=$?
	[ "$out" = "$(cat "${f%.conf}.expected")" ] || fail "stratad -p -f $f printed something else"
	if [ -f "$refused" ]; then
		[ "$status" = 1 ] || fail "stratad -p -f $f exited $status, expected 1 (sources refused)"
		diff <(grep -v ': warning: ' "$work/err") <(sed "s|^|$f:|" "$refused") >/dev/null ||
			fail "stratad -p -f $f printed '$(cat "$work/err")', expected the lines of $refused"
	else
		[ "$status" = 0 ] || fail "stratad -p -f $f exited $status: $(cat "$work/err")"
		! grep -v ': warning: ' "$work/err" | grep -q . || fail "stratad -p -f $f printed errors: $(cat "$work/err")"
	fi
done
# Each bad fixture: exit 1 and its one FILE:LINE: error on stderr.
for f in "$golden"/bad/*.conf; do
	status=0
	"$stratad" -p -f "$f" >/dev/null 2>"$work/err" || status=$?
	[ "$status" = 1 ] || fail "stratad -p -f $f exited $status, expected 1"
	expected="$f:$(cat "${f%.conf}.error")"
	grep -qxF "$expected" "$work/err" || fail "stratad -p -f $f printed '$(cat "$work/err")', expected '$expected'"
done
echo "-p: $(ls "$golden"/good/*.conf | wc -l) good and $(ls "$golden"/bad/*.conf | wc -l) bad fixtures as expected"

# Flags: unknown and not-yet-implemented ones exit 1 with a message.
expect_exit() {
	local want=$1 pattern=$2 status=0
	shift 2
	"$stratad" "$@" >"$work/out" 2>&1 || status=$?
	[ "$status" = "$want" ] || fail "stratad $* exited $status, expected $want"
	grep -q -- "$pattern" "$work/out" || fail "stratad $* printed '$(cat "$work/out")', expected /$pattern/"
}
expect_exit 1 "unknown option -z" -z
for f in -r -R; do
	expect_exit 1 "option $f is not supported by strata yet" $f
done
# -u and -F: a user that does not exist and a level chronyd has not stop
# the start (privileges.sh runs the switch itself); -p prints `user`.
expect_exit 1 "Fatal error : Could not get user/group ID of no-such-user-here: no such user" \
	-u no-such-user-here -x -d "local stratum 3" "port 0" "cmdport 0" "pidfile /"
expect_exit 1 "Fatal error : Could not get user/group ID of no-such-user-here: no such user" \
	-x -d "user no-such-user-here" "local stratum 3" "port 0" "cmdport 0" "pidfile /"
expect_exit 1 "-F 3: level must be -2 to 2" -F 3
expect_exit 0 "^user _chrony$" -u nobody -p "user _chrony"
expect_exit 0 "version" -F 1 -v
expect_exit 1 "option -f requires an argument" -f
expect_exit 0 "stratad (strata) version" -v
expect_exit 0 "Usage: stratad" -h
expect_exit 1 "command line:1: unknown directive 'lcoal' (did you mean 'local'?)" -p lcoal stratum 3
expect_exit 0 "^local stratum 3$" -p "local stratum 3" "port 5"

conf() {
	cat >"$work/$1.conf" <<CONF
local stratum 3
allow 127.0.0.1
port $2
cmdport 0
pidfile $work/$1.pid
CONF
}

# SIGTERM and SIGINT: clean exit, pid file removed, "stratad exiting".
conf a 11131
for sig in TERM INT; do
	start_stratad "$build" "$work/a.conf" "$work/a.log"
	wait_udp_port 11131 "$STRATAD_PID"
	[ "$(cat "$work/a.pid")" = "$STRATAD_PID" ] || fail "pid file holds $(cat "$work/a.pid"), not $STRATAD_PID"
	kill -"$sig" "$STRATAD_PID"
	wait "$STRATAD_PID" || fail "stratad exited $? on SIG$sig"
	grep -q "stratad exiting" "$work/a.log" || fail "no exit message after SIG$sig"
	[ ! -e "$work/a.pid" ] || fail "pid file left after SIG$sig"
done
STARTED_PIDS=()

# A second instance with the same pid file refuses to start and says who runs.
start_stratad "$build" "$work/a.conf" "$work/a.log"
first=$STRATAD_PID
wait_udp_port 11131 "$first"
status=0
"$stratad" -x -d -f "$work/a.conf" >"$work/second.log" 2>&1 || status=$?
[ "$status" = 1 ] || fail "second stratad exited $status"
grep -qE "Another stratad is already running \(pid $first, pidfile $work/a.pid\)$" "$work/second.log" ||
	fail "second stratad said: $(cat "$work/second.log")"
[ "$(cat "$work/a.pid")" = "$first" ] || fail "the second instance touched the pid file"
stop_pid "$first"
STARTED_PIDS=()

# -t: exits by itself.
conf t 11132
start_stratad "$build" "$work/t.conf" "$work/t.log"
pid=$STRATAD_PID
wait_udp_port 11132 "$pid"
"$stratad" -x -d -t 0.5 -f "$work/t.conf" >/dev/null 2>&1 && fail "a second stratad with -t started"
stop_pid "$pid"
STARTED_PIDS=()
start=$(date +%s%N)
"$stratad" -x -d -t 0.5 -f "$work/t.conf" >"$work/t.log" 2>&1 || fail "stratad -t exited $?"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -ge 500 ] || fail "stratad -t 0.5 exited after $elapsed_ms ms"
grep -q "Timeout of 0.5 seconds reached" "$work/t.log" || fail "no timeout message"

# Daemon mode (no -d/-n): the parent returns 0 once the child serves; logs go
# to syslog (or -l FILE).
conf d 11133
"$stratad" -x -f "$work/d.conf" -l "$work/d.log" || fail "stratad in daemon mode exited $?"
pid=$(cat "$work/d.pid")
STARTED_PIDS+=("$pid")
ss -Hlun "sport = :11133" | grep -q . || fail "the daemonized stratad does not listen"
grep -q "Serving NTP on 0.0.0.0 port 11133" "$work/d.log" || fail "no start-up lines in the -l log"
kill "$pid"
for _ in $(seq 100); do [ -e "$work/d.pid" ] || break; sleep 0.05; done
[ ! -e "$work/d.pid" ] || fail "daemon left its pid file"
STARTED_PIDS=()
# Start-up errors in daemon mode still reach the caller's exit status.
conf a 11131
start_stratad "$build" "$work/a.conf" "$work/a.log"
wait_udp_port 11131 "$STRATAD_PID"
sed -i "s|^pidfile .*|pidfile $work/a.pid|" "$work/d.conf"
status=0
"$stratad" -x -f "$work/d.conf" -l "$work/d2.log" || status=$?
[ "$status" = 1 ] || fail "a daemon that cannot lock its pid file exited $status"
grep -q "Another stratad is already running" "$work/d2.log" || fail "no pid file error: $(cat "$work/d2.log")"
# A port in use is not one, as with chronyd: the socket is logged as an
# error and the daemon runs on (here serving nothing, and saying so).
sed -i "s|^pidfile .*|pidfile $work/d.pid|; s/^port .*/port 11131/" "$work/d.conf"
"$stratad" -x -d -t 0.5 -f "$work/d.conf" >"$work/d3.log" 2>&1 || fail "stratad on a port in use exited $?"
for line in "Could not open NTP socket on 0.0.0.0 port 11131 (IPv4): bind 0.0.0.0:11131: Address already in use" \
	"Not serving NTP: no NTP socket could be opened"; do
	grep -qF "$line" "$work/d3.log" || fail "no '$line' in: $(cat "$work/d3.log")"
done
stop_pid "$STRATAD_PID" || fail "stratad (port holder) did not exit cleanly"
STARTED_PIDS=()

# A family that cannot be opened (IPv6 disabled in the kernel, absent under
# clknetsim; here an IPv6 address not on this host) is logged with its error
# and the other family serves, NTP and commands alike (chronyd's rule).
cat >"$work/v.conf" <<CONF
local stratum 3
allow
port 11136
cmdport 11137
bindaddress 2001:db8::1
bindcmdaddress 2001:db8::1
bindcmdaddress /
pidfile $work/v.pid
CONF
start_stratad "$build" "$work/v.conf" "$work/v.log"
wait_udp_port 11136 "$STRATAD_PID"
out=$("$build/tools/ntpload" --server 127.0.0.1 --port 11136 --rate 20 --duration 0.5 --json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["sent"] > 0 and r["received"] == r["sent"], r' "$out" ||
	fail "IPv4 does not serve while IPv6 cannot: $out"
chronyc -n -h 127.0.0.1 -p 11137 tracking | grep -q "^Stratum         : 3$" ||
	fail "the IPv4 command socket does not answer while IPv6 cannot"
stop_pid "$STRATAD_PID" || fail "stratad without IPv6 exited $?: $(cat "$work/v.log")"
STARTED_PIDS=()
for line in "Could not open NTP socket on 2001:db8::1 port 11136 (IPv6): bind [2001:db8::1]:11136: Cannot assign requested address" \
	"Could not open command socket on 2001:db8::1 port 11137 (IPv6): bind [2001:db8::1]:11137: Cannot assign requested address" \
	"Serving NTP on 0.0.0.0 port 11136" "Serving commands on UDP 127.0.0.1 port 11137"; do
	grep -qF "$line" "$work/v.log" || fail "no '$line' in: $(cat "$work/v.log")"
done
# -6 with that address: nothing to serve NTP on; the daemon says so and runs.
"$stratad" -x -d -6 -t 0.5 -f "$work/v.conf" >"$work/v6.log" 2>&1 || fail "stratad -6 without IPv6 exited $?"
grep -qF "Not serving NTP: no NTP socket could be opened" "$work/v6.log" || fail "stratad -6: $(cat "$work/v6.log")"
echo "sockets: a port in use and an unavailable family are logged, the rest serves"

# -4 / -6 and bindaddress / binddevice choose the sockets.
cat >"$work/b.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
allow ::1
port 11134
pidfile $work/b.pid
CONF
for family in 4 6; do
	"$stratad" -x -d -$family -f "$work/b.conf" >"$work/b.log" 2>&1 &
	pid=$!
	STARTED_PIDS+=("$pid")
	wait_udp_port 11134 "$pid"
	listening=$(ss -Hlun "sport = :11134" | awk '{print $4}')
	want=$([ $family = 4 ] && echo "0.0.0.0:11134" || echo "[::]:11134")
	[ "$listening" = "$want" ] || fail "stratad -$family listens on '$listening', expected $want"
	stop_pid "$pid"
done
printf 'bindaddress 127.0.0.1\nbinddevice lo\n' >>"$work/b.conf"
start_stratad "$build" "$work/b.conf" "$work/b.log"
wait_udp_port 11134 "$STRATAD_PID"
listening=$(ss -Hlun "sport = :11134" | awk '{print $4}' | sort | tr '\n' ' ')
[ "$listening" = "127.0.0.1%lo:11134 [::]%lo:11134 " ] || fail "bindaddress/binddevice: listening on '$listening'"
out=$("$build/tools/ntpload" --server 127.0.0.1 --port 11134 --rate 20 --duration 0.5 --json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["sent"] > 0 and r["received"] == r["sent"], r' "$out" ||
	fail "bindaddress and binddevice: $out"
stop_pid "$STRATAD_PID"
STARTED_PIDS=()

# Leap seconds from tzdata's list and from its right/UTC zone: read and
# reported at start; a broken list is reported and the sources decide.
for leap in "leapseclist /usr/share/zoneinfo/leap-seconds.list" "leapsectz right/UTC"; do
	printf '%s\nleapsecmode slew\nport 0\npidfile %s/l.pid\n' "$leap" "$work" >"$work/l.conf"
	"$stratad" -x -d -t 0.3 -f "$work/l.conf" >"$work/l.log" 2>&1 || fail "$leap: exit $?: $(cat "$work/l.log")"
	grep -qE "Loaded [0-9]+ leap second entries from .* \(TAI-UTC now 37 s\)" "$work/l.log" ||
		fail "$leap: $(cat "$work/l.log")"
done
printf '3550089600 35\nbroken line\n' >"$work/leaps.list"
printf 'leapseclist %s/leaps.list\nport 0\npidfile %s/l.pid\n' "$work" "$work" >"$work/l.conf"
"$stratad" -x -d -t 0.3 -f "$work/l.conf" >"$work/l.log" 2>&1 || fail "broken leap list: exit $?"
grep -q "Could not read leap seconds from $work/leaps.list: .*line 2: expected NTP-SECONDS TAI-OFFSET; the sources' leap bits are used" \
	"$work/l.log" || fail "broken leap list: $(cat "$work/l.log")"
echo "leap seconds: tzdata's list and right/UTC read, a broken list reported"

# The RTC where there is none (this sandbox has no /dev/rtc): a missing
# rtcdevice is one clear line and stratad serves on; -s falls back to the
# drift file's time (an hour ahead here: under -x it only says what it would
# do); a corrupt rtcfile is left as it is; refclock RTC on a missing device
# is logged and retried, and stratad serves on.
printf 'corrupt rtcfile\n' >"$work/rtc"
printf '%s\n' '10.000000 1.000000' >"$work/drift"
touch -d '+1 hour' "$work/drift"
cat >"$work/r.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
port 11135
cmdport 0
pidfile $work/r.pid
driftfile $work/drift
rtcfile $work/rtc
rtcdevice /nonexistent/rtc0
rtcautotrim 1
hwclockfile $work/adjtime
CONF
"$stratad" -x -d -s -f "$work/r.conf" >"$work/r.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_udp_port 11135 "$pid"
out=$("$build/tools/ntpload" --server 127.0.0.1 --port 11135 --rate 20 --duration 0.5 --json)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["sent"] > 0 and r["received"] == r["sent"], r' "$out" ||
	fail "stratad without its RTC does not serve: $out"
stop_pid "$pid" || fail "stratad without its RTC exited $?: $(cat "$work/r.log")"
STARTED_PIDS=()
for line in "Could not read hwclockfile $work/adjtime: No such file or directory; the RTC is taken to keep local time (rtconutc)" \
	"Could not set the system clock from the RTC: Could not open /nonexistent/rtc0: No such file or directory" \
	"Could not open /nonexistent/rtc0: No such file or directory; not tracking the RTC (rtcfile $work/rtc)"; do
	grep -qF "$line" "$work/r.log" || fail "no '$line' in: $(cat "$work/r.log")"
done
grep -qE "System clock would be stepped by \+3[56][0-9]{2}\.[0-9]{6} seconds \(to the last modification of driftfile $work/drift\); not stepped" \
	"$work/r.log" || fail "-s did not fall back to the drift file's time: $(cat "$work/r.log")"
[ "$(cat "$work/rtc")" = "corrupt rtcfile" ] || fail "the rtcfile was changed: $(cat "$work/rtc")"
printf 'refclock RTC /nonexistent/rtc1:utc dpoll 0 poll 2\nlocal stratum 3\nallow 127.0.0.0/8\nport 11135\ncmdport 0\npidfile %s/r.pid\n' \
	"$work" >"$work/rr.conf"
"$stratad" -x -d -f "$work/rr.conf" >"$work/rr.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_udp_port 11135 "$pid"
sleep 2.5
kill -0 "$pid" || fail "stratad with a missing RTC refclock exited: $(cat "$work/rr.log")"
stop_pid "$pid" || fail "stratad with a missing RTC refclock exited $?"
STARTED_PIDS=()
[ "$(grep -c "refclock RTC /nonexistent/rtc1: Could not open /nonexistent/rtc1: No such file or directory; retrying at every poll" \
	"$work/rr.log")" = 1 ] || fail "refclock RTC on a missing device: $(cat "$work/rr.log")"
echo "RTC: missing device and corrupt rtcfile reported, -s fell back to the drift file, stratad served on"

# Without -U, a user other than root is refused: a nested user namespace
# without a root mapping makes us "nobody".
status=0
unshare -Un "$stratad" -x -d -f "$work/a.conf" >"$work/u.log" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q "Not superuser" "$work/u.log" || fail "non-root start: exit $status, $(cat "$work/u.log")"
# A keyfile that is not there stops nothing when no source asks for a key
# (a warning, as chronyd's); it refuses the source that does.
printf 'server 127.0.0.1 iburst\nkeyfile %s/none.keys\n' "$work" >"$work/k1.conf"
"$stratad" -p -f "$work/k1.conf" >/dev/null 2>"$work/k1.err" || fail "-p with a missing, unused keyfile: $(cat "$work/k1.err")"
grep -q "none.keys: warning: could not read keyfile" "$work/k1.err" || fail "no keyfile warning: $(cat "$work/k1.err")"
printf 'server 127.0.0.1 iburst key 1\nkeyfile %s/none.keys\n' "$work" >"$work/k2.conf"
status=0
"$stratad" -p -f "$work/k2.conf" >/dev/null 2>"$work/k2.err" || status=$?
[ "$status" = 1 ] && grep -q "k2.conf:1: Source 127.0.0.1: key 1 is not in the keyfile" "$work/k2.err" ||
	fail "-p with a keyed source and no keyfile: exit $status, $(cat "$work/k2.err")"
rm -rf "$work"
echo "stratad_cli: ok"
