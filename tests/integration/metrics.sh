#!/usr/bin/env bash
# The Prometheus metrics endpoint (metricsaddress, metricsallow): stratad -x synchronised
# to a chronyd -x server (local stratum 1) on loopback serves GET /metrics;
# promtool accepts the text without a remark, the values agree with chronyc
# (stratum, reference id, the source selected and reachable, counters that
# count NTP and command requests), other paths are 404 and other methods
# 405. Idle and half-sent connections up to the limit neither block the
# daemon's loop nor outlive the idle timeout, and the endpoint serves again
# afterwards. A second stratad (local stratum 3, a SOCK refclock fed by
# sock_writer.py) serves on [::1], its refclock counters counting; a third,
# whose address is taken, logs the error and runs on without metrics.
#   metrics.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
chronyc_socket_dir

start_chronyd_server "$work" server 11170

mkdir -m 0700 "$work/a" "$work/b" "$work/c"
cat >"$work/a.conf" <<CONF
server 127.0.0.1 port 11170 iburst minpoll 0 maxpoll 2
port 11171
allow 127.0.0.1
cmdport 0
bindcmdaddress $work/a/stratad.sock
pidfile $work/a.pid
metricsaddress 127.0.0.1:11172
CONF
start_stratad "$build" "$work/a.conf" "$work/a.log"
a_pid=$STRATAD_PID
url=http://127.0.0.1:11172

cat >"$work/b.conf" <<CONF
local stratum 3
refclock SOCK $work/b/gps.sock refid GPS poll 0 noselect
port 0
cmdport 0
bindcmdaddress $work/b/stratad.sock
pidfile $work/b.pid
metricsaddress [::1]:11173
CONF
start_stratad "$build" "$work/b.conf" "$work/b.log"
b_pid=$STRATAD_PID
python3 "$(dirname "$0")/sock_writer.py" "$work/b/gps.sock" &
STARTED_PIDS+=($!)

for _ in $(seq 100); do
	[ -S "$work/a/stratad.sock" ] && grep -q "Serving metrics" "$work/a.log" && break
	sleep 0.05
done
grep -q "Serving metrics on $url/metrics" "$work/a.log" || fail "stratad A does not serve metrics: $(cat "$work/a.log")"
chronyc -h "$work/a/stratad.sock" waitsync 30 0.001 >/dev/null ||
	fail "stratad did not synchronise: $(cat "$work/a.log")"
# Three NTP requests to stratad's own server, for its counters.
python3 - <<'PY' || fail "no NTP answer from stratad"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(b"\x23" + b"\0" * 47, ("127.0.0.1", 11171))
    assert len(s.recv(100)) == 48
PY

# promtool prints its lint remarks and exits non-zero on problems; any
# output at all counts as a failure here.
check_promtool() { # check_promtool FILE
	local out
	out=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics failed: $out"
	[ -z "$out" ] || fail "promtool check metrics: $out"
}

# A few samples and the initial burst over (polls of 1 to 4 s).
src='name="127.0.0.1",address="127.0.0.1",mode="server"'
for _ in $(seq 60); do
	curl -fsS -D "$work/headers" "$url/metrics" >"$work/metrics.txt" || fail "GET /metrics"
	grep -qx "strata_source_samples{$src} [4-9]" "$work/metrics.txt" &&
		grep -qx 'strata_activity_sources{status="online"} 1' "$work/metrics.txt" && break
	sleep 0.5
done
echo "--- stratad A /metrics"
cat "$work/metrics.txt"
check_promtool "$work/metrics.txt"
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$work/headers" ||
	fail "content type: $(cat "$work/headers")"

value() { # value 'NAME{LABELS}': the sample's value, or fail
	local v
	v=$(awk -v n="$1" '$1 == n { print $2 }' "$work/metrics.txt")
	[ -n "$v" ] || fail "no sample $1"
	echo "$v"
}
tracking=$(chronyc -n -h "$work/a/stratad.sock" tracking)
refid=$(echo "$tracking" | sed -n 's/^Reference ID *: \([0-9A-F]*\).*/\1/p')
[ "$(value strata_tracking_stratum)" = 2 ] || fail "stratum $(value strata_tracking_stratum), not 2"
[ "$refid" = 7F000001 ] || fail "chronyc reference id $refid"
value "strata_tracking_reference_info{refid=\"$refid\",name=\"127.0.0.1\"}" >/dev/null
[ "$(value 'strata_tracking_leap_status{status="normal"}')" = 1 ] || fail "leap status not normal"
[ "$(value "strata_source_state{$src,state=\"selected\"}")" = 1 ] || fail "127.0.0.1 not selected"
[ "$(value "strata_source_stratum{$src}")" = 1 ] || fail "source stratum"
python3 - "$(value "strata_source_reach{$src}")" "$(value "strata_source_samples{$src}")" \
	"$(value "strata_source_poll_interval_seconds{$src}")" "$(value strata_tracking_last_offset_seconds)" \
	"$(value strata_tracking_root_dispersion_seconds)" "$(value strata_tracking_reference_time_seconds)" \
	"$(value "strata_source_last_sample_offset_seconds{$src}")" "$(date +%s)" <<'PY' || fail "values out of range"
import sys
reach, samples, poll, offset, dispersion, ref_time, sample_offset, now = map(float, sys.argv[1:])
assert 1 <= reach <= 255 and reach == int(reach), reach
assert samples >= 3, samples
assert 1 <= poll <= 4, poll
assert abs(offset) < 1e-3 and abs(sample_offset) < 1e-3, (offset, sample_offset)
assert 0 <= dispersion < 1e-2, dispersion
assert now - 60 < ref_time <= now + 1, (ref_time, now)
PY
[ "$(value strata_ntp_requests_total)" -ge 3 ] || fail "NTP requests not counted"
[ "$(value strata_ntp_responses_total)" -ge 3 ] || fail "NTP responses not counted"
[ "$(value strata_command_requests_total)" -ge 1 ] || fail "command requests not counted"
[ "$(value 'strata_activity_sources{status="online"}')" = 1 ] || fail "activity"
[ "$(value strata_sources)" = 1 ] || fail "source count"

# Other paths and methods; HEAD is GET without the body.
for path in / /metric /metrics/ /metrics.txt /foo; do
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$url$path")
	[ "$code" = 404 ] || fail "GET $path: $code, not 404"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/metrics?format=x")
[ "$code" = 200 ] || fail "a query string: $code"
for method in POST PUT DELETE; do
	code=$(curl -sS -o /dev/null -D "$work/h405" -w '%{http_code}' -X $method -d 'x=1' "$url/metrics")
	[ "$code" = 405 ] || fail "$method: $code, not 405"
	grep -qi '^Allow: GET, HEAD' "$work/h405" || fail "405 without Allow: $(cat "$work/h405")"
done
code=$(curl -sS -I -o /dev/null -w '%{http_code}' "$url/metrics")
[ "$code" = 200 ] || fail "HEAD: $code"
# Two scrapes over one kept-alive connection.
curl -sS -v "$url/metrics" "$url/metrics" -o /dev/null -o /dev/null 2>&1 | grep -q 'Re-using existing connection' ||
	fail "the connection was not kept for a second request"

# Slow clients: the 16 connection slots taken by idle ones and by requests
# that never end. The daemon's loop goes on (chronyc is answered at once),
# a 17th client is turned away, and the idle timeout (5 s) frees the slots.
python3 - >"$work/slow.txt" 2>&1 <<'PY' &
import socket, sys, time
conns = []
for i in range(16):
    s = socket.create_connection(("127.0.0.1", 11172))
    if i % 2:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
    conns.append((time.monotonic(), s))
print("held", flush=True)
closed = []
for start, s in conns:
    s.settimeout(15)
    try:
        data = s.recv(1000)
        while data:
            data = s.recv(1000)
    except (ConnectionResetError, socket.timeout):
        pass
    closed.append(time.monotonic() - start)
print("closed after %.1f to %.1f s" % (min(closed), max(closed)), flush=True)
assert 4 <= min(closed) and max(closed) <= 9, closed
PY
slow_pid=$!
STARTED_PIDS+=($slow_pid)
for _ in $(seq 100); do grep -q held "$work/slow.txt" && break; sleep 0.05; done
grep -q held "$work/slow.txt" || fail "could not open the slow connections: $(cat "$work/slow.txt")"
t0=$(date +%s.%N)
chronyc -n -h "$work/a/stratad.sock" tracking >/dev/null || fail "chronyc while the slots are taken"
t1=$(date +%s.%N)
python3 -c "import sys; assert float(sys.argv[2]) - float(sys.argv[1]) < 1" "$t0" "$t1" ||
	fail "chronyc took $t0 → $t1 while the metrics slots were taken"
if curl -fsS --max-time 2 "$url/metrics" >/dev/null 2>&1; then
	fail "a 17th connection was served beyond the limit"
fi
wait $slow_pid || fail "slow connections: $(cat "$work/slow.txt")"
cat "$work/slow.txt"
curl -fsS --max-time 5 "$url/metrics" >"$work/metrics2.txt" || fail "no metrics after the slow clients left"
check_promtool "$work/metrics2.txt"

# stratad B: local stratum 3 over IPv6, with a SOCK refclock (noselect)
# fed once a second since B started.
curl -fsS --max-time 5 -g 'http://[::1]:11173/metrics' >"$work/b.txt" || fail "GET [::1]/metrics: $(cat "$work/b.log")"
echo "--- stratad B /metrics (samples)"
grep -v '^#' "$work/b.txt"
check_promtool "$work/b.txt"
grep -qx 'strata_tracking_stratum 3' "$work/b.txt" || fail "B's stratum: $(grep stratum "$work/b.txt")"
grep -qx 'strata_sources 1' "$work/b.txt" || fail "B's sources"
gps='name="GPS",refid="GPS",mode="refclock"'
# The state chronyc shows for it (stable: noselect).
line=$(chronyc -n -h "$work/b/stratad.sock" sources | grep ' GPS ') || fail "chronyc sources on B"
case ${line:1:1} in
'*') state=selected ;; '+') state=combined ;; '-') state=not_combined ;;
x) state=falseticker ;; '~') state=jittery ;; '?') state=unusable ;;
*) fail "chronyc state of GPS: $line" ;;
esac
grep -qx "strata_source_state{$gps,state=\"$state\"} 1" "$work/b.txt" || fail "B's refclock not $state ($line)"
grep -qE "^strata_source_reach\{$gps\} [1-9]" "$work/b.txt" || fail "B's refclock not reached"
for counter in samples polls; do
	grep -qE "^strata_refclock_${counter}_total\{name=\"GPS\",driver=\"SOCK\"\} ([3-9]|[1-9][0-9])\$" "$work/b.txt" ||
		fail "B's refclock $counter: $(grep "^strata_refclock_${counter}_total" "$work/b.txt")"
done
grep -qx 'strata_refclock_pulses_total{name="GPS",driver="SOCK"} 0' "$work/b.txt" || fail "B's refclock pulses"

# stratad C: its metrics address is A's; it says so and runs on.
sed -e "s|$work/a|$work/c|g" -e '/^port /d' -e '/^allow/d' "$work/a.conf" \
	>"$work/c.conf"
echo "port 0" >>"$work/c.conf"
start_stratad "$build" "$work/c.conf" "$work/c.log"
c_pid=$STRATAD_PID
# The command socket opens before the metrics endpoint is tried: wait for
# the line itself.
in_use="Could not serve metrics: Could not listen for metrics on 127.0.0.1:11172: Address already in use"
for _ in $(seq 200); do grep -q "$in_use" "$work/c.log" && break; sleep 0.05; done
grep -q "$in_use" "$work/c.log" || fail "C did not report its metrics address in use: $(cat "$work/c.log")"
for _ in $(seq 100); do [ -S "$work/c/stratad.sock" ] && break; sleep 0.05; done
chronyc -n -h "$work/c/stratad.sock" tracking >/dev/null || fail "C does not answer without metrics"
curl -fsS "$url/metrics" >/dev/null || fail "A stopped serving"

# stratad D: listening on every address, but by default only the host
# itself (127.0.0.1, ::1) may scrape; metricsallow opens 127.0.0.3 alone.
mkdir -m 0700 "$work/d"
cat >"$work/d.conf" <<CONF
local stratum 3
port 0
cmdport 0
bindcmdaddress $work/d/stratad.sock
pidfile $work/d.pid
metricsaddress 0.0.0.0:11174
metricsallow 127.0.0.3
CONF
start_stratad "$build" "$work/d.conf" "$work/d.log"
d_pid=$STRATAD_PID
for _ in $(seq 100); do grep -q "Serving metrics" "$work/d.log" && break; sleep 0.05; done
curl -fsS --max-time 5 http://127.0.0.1:11174/metrics >/dev/null || fail "D refused localhost: $(cat "$work/d.log")"
curl -fsS --max-time 5 --interface 127.0.0.3 http://127.0.0.1:11174/metrics >/dev/null ||
	fail "D refused 127.0.0.3, which metricsallow names"
if curl -fsS --max-time 5 --interface 127.0.0.2 http://127.0.0.1:11174/metrics >/dev/null 2>&1; then
	fail "D served 127.0.0.2, which no metricsallow names"
fi
stop_pid "$d_pid" || fail "stratad D exited with an error"

for pid in $c_pid $b_pid $a_pid; do
	stop_pid "$pid" || fail "stratad $pid exited with an error"
done
if grep -i metrics "$work/a.log" | grep -vq "Serving metrics"; then
	fail "A logged a metrics error: $(cat "$work/a.log")"
fi
if curl -fsS --max-time 2 "$url/metrics" >/dev/null 2>&1; then
	fail "metrics still served after stratad exited"
fi
echo PASS
