#!/usr/bin/env bash
# Debian's chronyc against stratad: chronyd -x (local stratum 1) serves
# stratad -x and, side by side, a chronyd -x client; chronyc asks both the
# same questions over the Unix socket and over UDP port 323 (chronyc's default; the
# namespace lets the test bind it). stratad's answers must
# be chronyc-readable and sane: the same source selected, the same stratum
# and reference id as the chronyd client, offsets within 1 ms, counters that
# count; modifying commands work over the socket and are refused over UDP
# (501), unsupported ones get 505; sources are added (a second chronyd
# server), deleted and reloaded from sourcedir at run time; stratactl prints
# what chronyc prints.
#   control_chronyc.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
chronyc_socket_dir

start_chronyd_server "$work" server 11150

mkdir -m 0700 "$work/chronyd" "$work/strata"
cat >"$work/client.conf" <<CONF
server 127.0.0.1 port 11150 iburst minpoll 0 maxpoll 2
port 0
cmdport 11151
bindcmdaddress $work/chronyd/chronyd.sock
pidfile $work/client.pid
CONF
chronyd -x -d -u root -f "$work/client.conf" >"$work/client.log" 2>&1 &
STARTED_PIDS+=($!)

cat >"$work/stratad.conf" <<CONF
server 127.0.0.1 port 11150 iburst minpoll 0 maxpoll 2
port 11153
allow 127.0.0.0/8
cmdport 323
bindcmdaddress $work/strata/stratad.sock
pidfile $work/stratad.pid
sourcedir $work/sources.d
dumpdir $work/dump
CONF
mkdir "$work/sources.d" "$work/dump"
start_stratad "$build" "$work/stratad.conf" "$work/stratad.log"
sock=$work/strata/stratad.sock

# Both synchronised: chronyc waitsync against each, once their sockets exist
# (chronyc gives up at once on a missing socket).
for _ in $(seq 100); do
	[ -S "$work/chronyd/chronyd.sock" ] && [ -S "$sock" ] && break
	sleep 0.05
done
[ -S "$work/chronyd/chronyd.sock" ] || fail "chronyd client made no command socket: $(cat "$work/client.log")"
[ -S "$sock" ] || fail "stratad made no command socket: $(cat "$work/stratad.log")"
chronyc -h "$work/chronyd/chronyd.sock" waitsync 30 0.001 >/dev/null || fail "chronyd client did not synchronise"
chronyc -h "$sock" waitsync 30 0.001 || fail "stratad did not synchronise (waitsync): $(cat "$work/stratad.log")"

field() { # field REPORT NAME: the value after "NAME :" in chronyc's output
	echo "$1" | sed -n "s/^$2 *: //p"
}
for transport in unix udp; do
	if [ $transport = unix ]; then target=(-h "$sock"); else target=(-h 127.0.0.1); fi
	ours=$(chronyc -n "${target[@]}" tracking) || fail "chronyc tracking over $transport: $ours"
	theirs=$(chronyc -n -h "$work/chronyd/chronyd.sock" tracking)
	echo "--- stratad tracking over $transport"
	echo "$ours"
	for f in "Reference ID" "Stratum" "Leap status"; do
		[ "$(field "$ours" "$f")" = "$(field "$theirs" "$f")" ] ||
			fail "$f: stratad '$(field "$ours" "$f")', chronyd '$(field "$theirs" "$f")'"
	done
	python3 - "$ours" <<'PY' || fail "tracking figures out of range"
import re, sys
t = sys.argv[1]
def seconds(name):
    m = re.search(name + r"\s*: ([-+]?[0-9.]+) seconds", t)
    return float(m.group(1))
for name in ("System time", "Last offset", "RMS offset"):
    assert abs(seconds(name)) < 1e-3, (name, seconds(name))
assert 0 <= seconds("Root delay") < 1e-3 and 0 <= seconds("Root dispersion") < 1e-2
assert re.search(r"Frequency\s*: [0-9.]+ ppm (fast|slow)", t)
assert re.search(r"Update interval : [0-9.]+ seconds", t)
PY
	sources=$(chronyc -n "${target[@]}" sources -v)
	echo "$sources" | grep -E '^\^\* 127\.0\.0\.1 +1 +[0-2] +[0-7]+ ' || fail "sources over $transport: $sources"
	stats=$(chronyc -n "${target[@]}" sourcestats)
	echo "$stats" | grep -E '^127\.0\.0\.1 +[0-9]+ +[0-9]+ ' || fail "sourcestats over $transport: $stats"
	activity=$(chronyc -n "${target[@]}" activity)
	echo "$activity" | grep -q "^1 sources online" || fail "activity over $transport: $activity"
done

# The offset stratad measures against chronyd's own client's.
python3 - "$(chronyc -n -h "$sock" ntpdata 127.0.0.1)" "$(chronyc -n -h "$work/chronyd/chronyd.sock" ntpdata 127.0.0.1)" <<'PY' || fail "ntpdata"
import re, sys
ours, theirs = sys.argv[1], sys.argv[2]
def v(t, name):
    return re.search(name + r"\s*: (.*)", t).group(1).strip()
print("stratad ntpdata offset", v(ours, "Offset"), "chronyd", v(theirs, "Offset"))
off = lambda t: float(v(t, "Offset").split()[0])
assert abs(off(ours) - off(theirs)) < 1e-3
for name in ("Remote address", "Remote port", "Stratum", "Mode", "Version", "Reference ID", "Leap status"):
    assert v(ours, name) == v(theirs, name), (name, v(ours, name), v(theirs, name))
assert int(v(ours, "Total good RX")) >= 4
PY
# Unix-only reports; serverstats counts the commands.
stats=$(chronyc -n -h "$sock" serverstats)
echo "$stats" | grep -E "^Command packets received *: [1-9]" || fail "serverstats: $stats"
out=$(chronyc -n -h 127.0.0.1 serverstats 2>&1 || true)
echo "$out" | grep -q "501 Not authorised" || fail "serverstats over UDP: $out"

# The client log: NTP requests from two loopback addresses, as chronyc
# clients lists them (Unix socket only), and -r resets them.
python3 - <<'PY' || fail "NTP requests to stratad"
import socket, struct
for source, count in (("127.0.0.2", 3), ("127.0.0.3", 5)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(2)
    for _ in range(count):
        s.sendto(struct.pack("!B47x", 0x23), ("127.0.0.1", 11153))
        reply, _ = s.recvfrom(1024)
        assert len(reply) == 48 and reply[0] & 7 == 4, reply
PY
clients=$(chronyc -n -h "$sock" clients)
echo "$clients"
echo "$clients" | grep -E '^127\.0\.0\.2 +3 +0 ' || fail "clients: $clients"
echo "$clients" | grep -E '^127\.0\.0\.3 +5 +0 ' || fail "clients: $clients"
chronyc -n -h "$sock" clients -p 4 | grep -q '^127\.0\.0\.2 ' && fail "clients -p 4 listed a client with 3 requests"
chronyc -n -h "$sock" clients -r >/dev/null
chronyc -n -h "$sock" clients | grep -E '^127\.0\.0\.3 +0 +0 ' || fail "clients -r did not reset"
out=$(chronyc -n -h 127.0.0.1 clients 2>&1 || true)
echo "$out" | grep -q "501 Not authorised" || fail "clients over UDP: $out"
# chronyc's UDP requests are logged too (the Cmd column), under cmdratelimit
# (default: 8 at once, then one per 1/16 s, one in 4 over it let through):
# 40 requests sent at once are not all answered, more than 8 are.
python3 - "$(dirname "$0")/../fuzz/corpus/cmdmon/chronyc_tracking" <<'PY' || fail "cmdratelimit"
import socket, struct, sys, time
seed = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for i in range(40):
    req = bytearray(seed)
    struct.pack_into(">I", req, 8, i)
    s.sendto(req, ("127.0.0.1", 323))
s.settimeout(0.5)
answered = 0
try:
    while True:
        s.recv(2048)
        answered += 1
except socket.timeout:
    pass
print(f"cmdratelimit: {answered} of 40 requests sent at once answered")
assert 8 <= answered < 40, answered
PY
clients=$(chronyc -n -h "$sock" clients)
echo "$clients"
echo "$clients" | grep -E '^127\.0\.0\.1 +0 +0 +- +- +- +[1-9][0-9]+ +[1-9][0-9]* ' ||
	fail "chronyc's UDP requests and the drops not in clients: $clients"

# strata's JSON requests on the same socket (docs/control.md).
python3 - "$sock" "$work/json.sock" <<'PY' || fail "JSON requests"
import json, socket, sys
server, local = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(local)
s.settimeout(3)
def ask(request):
    s.sendto(json.dumps(request).encode(), server)
    return json.loads(s.recv(65536))
r = ask({"version": 1, "command": "sources"})
assert r["report"] == "sources" and r["version"] == 1, r
assert [(x["address"], x["state"]) for x in r["sources"]] == [("127.0.0.1", "selected")], r
r = ask({"command": "tracking"})
assert r["report"] == "tracking" and r["stratum"] == 2 and abs(r["last_offset_s"]) < 1e-3, r
r = ask({"command": "clients"})
assert {c["address"] for c in r["clients"]} >= {"127.0.0.2", "127.0.0.3"}, r
r = ask({"command": "ntpdata"})
assert r["sources"][0]["remote_address"] == "127.0.0.1", r
r = ask({"command": "burst", "good": 1, "total": 2})
assert r["report"] == "status" and r["code"] == 200 and r["success"], r
r = ask({"command": "no such thing"})
assert r["code"] == 502 and "no such thing" in r["detail"], r
s.sendto(b"{not json", server)
r = json.loads(s.recv(65536))
assert r["code"] == 502, r
print("JSON: sources, tracking, clients, ntpdata, burst and bad requests answered")
PY

# Commands: over the socket they run, over UDP they are refused.
chronyc -h "$sock" offline | grep -q "200 OK" || fail "offline"
# A source still in the JSON burst above finishes it first, as chronyd's
# does ("doing burst (return to offline)"), then is offline.
offline=
for _ in $(seq 100); do
	activity=$(chronyc -n -h "$sock" activity)
	if echo "$activity" | grep -q "^1 sources offline"; then
		offline=yes
		break
	fi
	echo "$activity" | grep -q "^1 sources doing burst (return to offline)" || fail "offline did not take: $activity"
	sleep 0.1
done
[ -n "$offline" ] || fail "the source did not return to offline after its burst: $activity"
chronyc -h "$sock" online | grep -q "200 OK" || fail "online"
chronyc -h "$sock" burst 2/4 | grep -q "200 OK" || fail "burst"
chronyc -n -h "$sock" activity | grep -q "^1 sources doing burst (return to online)" || fail "burst did not take"
chronyc -h "$sock" makestep | grep -q "200 OK" || fail "makestep"
grep -q "makestep command" "$work/stratad.log" || fail "makestep did not reach the clock"
out=$(chronyc -h 127.0.0.1 makestep 2>&1 || true)
echo "$out" | grep -q "501 Not authorised" || fail "makestep over UDP: $out"
# dump: the measurement history to dumpdir, one file a source (strata's format).
chronyc -h "$sock" dump | grep -q "200 OK" || fail "dump"
grep -Eq '^[0-9]+\.[0-9]{9} [-+][0-9.]+e[-+][0-9]+ ' "$work/dump/127.0.0.1.dat" ||
	fail "dump wrote no history: $(cat "$work/dump/127.0.0.1.dat" 2>&1)"
out=$(chronyc -h 127.0.0.1 dump 2>&1 || true)
echo "$out" | grep -q "501 Not authorised" || fail "dump over UDP: $out"

# stratactl prints what chronyc prints for the same daemon: each report
# compared with its digits masked (values move between the two calls; the
# layout, labels, units and names must not), a few tries for a value that
# changed its width in between.
stratactl=$build/tools/stratactl
for args in tracking "sources -v" sourcestats "selectdata -v" activity "ntpdata 127.0.0.1" serverstats clients; do
	for transport in unix udp; do
		if [ $transport = unix ]; then target=(-h "$sock"); else target=(-h 127.0.0.1); fi
		same=no
		for _ in 1 2 3 4 5; do
			a=$(chronyc -n "${target[@]}" $args 2>&1 | tr '0-9' '#' || true)
			b=$("$stratactl" -n "${target[@]}" $args 2>&1 | tr '0-9' '#' || true)
			if [ "$a" = "$b" ]; then same=yes; break; fi
		done
		[ $same = yes ] || fail "stratactl $args over $transport differs from chronyc:
$(diff <(echo "$a") <(echo "$b"))"
	done
done
echo "stratactl prints chronyc's layouts for stratad"
"$stratactl" -n -h "$sock" clients
"$stratactl" -j -h "$sock" tracking | python3 -m json.tool >/dev/null || fail "stratactl -j tracking"

# Sources added, deleted and reloaded at run time, answered as chronyd
# answers them: a second chronyd server on 127.0.0.2.
start_chronyd_server "$work" server2 11154 127.0.0.2
reachable() { # reachable ADDRESS: stratad has answers from it within 10 s
	for _ in $(seq 50); do
		chronyc -n -h "$sock" sources | grep -Eq "^\^. ${1//./\\.} +1 +-?[0-9]+ +[0-7]*[1-7][0-7]* " && return 0
		sleep 0.2
	done
	return 1
}
expect() { # expect LINE COMMAND...: chronyc's answer to COMMAND over the socket
	local want=$1 out
	shift
	out=$(chronyc -n -h "$sock" "$@" 2>&1 || true)
	echo "$out" | grep -q "^$want" || fail "$*: '$out', not '$want'"
}
expect "511 Source already present" add server 127.0.0.1 port 11150 iburst
expect "200 OK" add server 127.0.0.2 port 11154 iburst minpoll 0 maxpoll 2
expect "511 Source already present" add server 127.0.0.2 port 11155
reachable 127.0.0.2 || fail "added source not reachable: $(chronyc -n -h "$sock" sources)"
[ "$(chronyc -n -h "$sock" activity | awk '/sources online|burst \(return to online\)/ { n += $1 } END { print n }')" = 2 ] ||
	fail "activity after add: $(chronyc -n -h "$sock" activity)"
out=$(chronyc -h 127.0.0.1 delete 127.0.0.2 2>&1 || true)
echo "$out" | grep -q "501 Not authorised" || fail "delete over UDP: $out"
# authdata: a row per NTP source, mode none, as chronyd shows its own.
auth=$(chronyc -n -h "$sock" authdata)
echo "$auth"
[ "$(echo "$auth" | grep -c '^127\.0\.0\.[12] ')" = 2 ] || fail "authdata: $auth"
[ "$(echo "$auth" | grep '^127\.0\.0\.1 ')" = "$(chronyc -n -h "$work/chronyd/chronyd.sock" authdata | grep '^127\.0\.0\.1 ')" ] ||
	fail "authdata row differs from chronyd's: $auth"
expect "200 OK" delete 127.0.0.2
chronyc -n -h "$sock" sources | grep -q '127\.0\.0\.2' && fail "deleted source still listed"
expect "503 No such source" delete 192.0.2.9
expect "505 Facility not enabled" add peer 127.0.0.5
expect "200 OK" rekey
expect "200 OK" refresh
# reload sources: a sourcedir file added, then removed.
echo "server 127.0.0.2 port 11154 iburst minpoll 0 maxpoll 2" >"$work/sources.d/second.sources"
expect "200 OK" reload sources
reachable 127.0.0.2 || fail "reloaded source not reachable: $(chronyc -n -h "$sock" sources)"
expect "200 OK" reload sources  # unchanged: nothing moves
[ "$(chronyc -n -h "$sock" sources | grep -c '127\.0\.0\.2')" = 1 ] || fail "reload added the source twice"
rm "$work/sources.d/second.sources"
expect "200 OK" reload sources
chronyc -n -h "$sock" sources | grep -q '127\.0\.0\.2' && fail "reload did not remove the source"
chronyc -n -h "$sock" sources | grep -Eq '^\^. 127\.0\.0\.1 ' || fail "the first source went too"
grep -q "Reloaded sources" "$work/stratad.log" || fail "reload not logged"
# The selected source deleted: no source left, stratad says it is no longer
# synchronised (and keeps answering).
expect "200 OK" delete 127.0.0.1
[ "$(chronyc -n -h "$sock" sources | grep -c '^\^')" = 0 ] || fail "sources left: $(chronyc -n -h "$sock" sources)"
chronyc -n -h "$sock" tracking | grep -q "^Leap status *: Not synchronised" ||
	fail "still synchronised without sources: $(chronyc -n -h "$sock" tracking)"

chronyc -h "$sock" shutdown | grep -q "200 OK" || fail "shutdown"
for _ in $(seq 100); do kill -0 "$STRATAD_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$STRATAD_PID" 2>/dev/null && fail "stratad still running after shutdown"
[ ! -e "$sock" ] || fail "stratad left its command socket behind"
echo PASS
