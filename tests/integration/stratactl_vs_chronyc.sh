#!/usr/bin/env bash
# stratactl against chronyc, byte for byte, on the same chronyd:
#   chronyd -x (local stratum 1, 127.0.0.1 and ::1) → chronyd -x client
#   (three sources, one noselect; a UDP command port and a Unix socket).
# For every report, chronyc and stratactl run one after the other, over the
# Unix socket and over UDP, in the human, -v and -c forms, and their outputs
# (stdout and stderr) and exit statuses must be equal once the values that
# change between two calls are masked (see mask.py below: only those
# numbers, never labels, legends, headers, units, names or column widths).
# Also: -j parses as JSON, modifying commands (501 over UDP, 200 or 500 over
# the socket), waitsync, and the error paths.
#   stratactl_vs_chronyc.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
stratactl=$build/tools/stratactl
[ -x "$stratactl" ] || fail "no $stratactl"
chronyc_socket_dir  # also for chronyc's default host list
mkdir -m 0700 "$work/sock"
sock=$work/sock/chronyd.sock

start_chronyd_server "$work" server 11160

cat >"$work/client.conf" <<CONF
server 127.0.0.1 port 11160 iburst minpoll 0 maxpoll 2
server ::1 port 11160 iburst minpoll 0 maxpoll 2
server 127.0.0.2 port 11160 iburst minpoll 0 maxpoll 2 noselect
port 0
cmdport 11161
bindcmdaddress $sock
pidfile $work/client.pid
driftfile $work/client.drift
CONF
chronyd -x -d -u root -f "$work/client.conf" >"$work/client.log" 2>&1 &
client_pid=$!
STARTED_PIDS+=("$client_pid")
wait_udp_port 11161 "$client_pid"
out=$(chronyc -h "$sock" waitsync 60 0 0 0.2) || fail "the chronyd client did not synchronise: $out"
sleep 3  # every source reachable, statistics filled

# compare.py reads cases ("REPORT<TAB>ARGS", one a line), runs chronyc and
# stratactl with ARGS one after the other, and compares their stdout+stderr
# and exit statuses after masking the values that change between two calls:
# each is replaced by as many '#' as it has characters (leading spaces of
# right-aligned columns included), so that widths are still compared.
#  - key-value reports: only the values of the listed lines; the words
#    fast/slow of tracking's two signed lines become "~~~~";
#  - tables: numbers from the first column that changes on its own
#    (sources: LastRx, sourcestats: NP, selectdata: Last, clients: all
#    counters, after the 25-column name);
#  - CSV: decimal fractions and the listed integer fields.
# A case is retried up to 8 times, since a value may change in a way the
# mask leaves visible (a unit stepping from ns to us, a poll interval).
cat >"$work/compare.py" <<'PY'
import re, subprocess, sys
stratactl = sys.argv[1]
num = re.compile(r" *[+-]?\d+(?:\.\d+)?")
hashes = lambda m: "#" * len(m.group())
kv = {
    "tracking": ["Ref time (UTC)", "System time", "Last offset", "RMS offset", "Frequency",
                 "Residual freq", "Skew", "Root delay", "Root dispersion", "Update interval"],
    "ntpdata": ["Poll interval", "Reference time", "Offset", "Peer delay", "Peer dispersion",
                "Response time", "Jitter asymmetry", "Total TX", "Total RX", "Total valid RX",
                "Total good RX"],
    "serverstats": ["Command packets received"],
}
table_start = {"sources": 46, "sourcestats": 25, "selectdata": 39, "clients": 25}
csv_ints = {"sources": [6], "sourcestats": [1, 2, 3], "selectdata": [13], "clients": list(range(1, 10)),
            "serverstats": [2], "ntpdata": [9, 10, 28, 29, 30, 31], "waitsync": [0]}
headers = ("=", "MS ", "Name/", "S Name", "Hostname")

def mask(report, csv, text):
    out = []
    for line in text.split("\n"):
        if csv and "," in line:
            fields = line.split(",")
            for i, f in enumerate(fields):
                if re.fullmatch(r"-?\d+\.\d+", f) or i in csv_ints.get(report, []):
                    fields[i] = "#"
            line = ",".join(fields)
        elif line.startswith("try: "):
            line = re.sub(r"(correction|skew): [\d.]+", lambda m: m.group(1) + ": #", line)
        elif ":" in line and report in kv:
            label, sep, value = line.partition(":")
            if label.strip() in kv[report]:
                value = re.sub(r"\b(fast|slow)\b", "~~~~", num.sub(hashes, value))
            line = label + sep + value
        elif report in table_start and len(line) > table_start[report] and not line.startswith(headers):
            n = table_start[report]
            line = line[:n] + num.sub(hashes, line[n:])
        out.append(line)
    return "\n".join(out)

def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    return p.returncode, p.stdout

compared = 0
for case in sys.stdin.read().splitlines():
    report, args = case.split("\t")
    argv = args.split()
    csv = "-c" in argv
    for attempt in range(8):
        ra, a = run(["chronyc"] + argv)
        rb, b = run([stratactl] + argv)
        ma, mb = mask(report, csv, a), mask(report, csv, b)
        if ra == rb and ma == mb:
            compared += 1
            break
    else:
        print(f"chronyc {args} (exit {ra}) and stratactl (exit {rb}) differ after masking:")
        print("--- chronyc\n" + a + "--- stratactl\n" + b + "--- masked chronyc\n" + ma + "\n--- masked stratactl\n" + mb)
        sys.exit(1)
print(f"{compared} comparisons equal")
PY

cases=$work/cases
: >"$cases"
same() { printf '%s\t%s\n' "$1" "$2" >>"$cases"; }
for via in "-h $sock" "-h 127.0.0.1 -p 11161"; do
	for names in "-n" ""; do
		same tracking "$names $via tracking"
		same tracking "$names -N $via tracking"
		for table in sources sourcestats selectdata; do
			same $table "$names $via $table"
			same $table "$names $via $table -v"
		done
		same sources "$names -N $via sources"
		same authdata "$names $via authdata -v"
		same clients "$names $via clients"
		same ntpdata "$names $via ntpdata"
		[ -n "$names" ] || continue
		# The rest needs no name resolution.
		same tracking "-c $via tracking"
		for table in sources sourcestats selectdata; do
			same $table "-c $via $table"
			same $table "-c $via $table -v"
		done
		same sources "$names $via sources -a"
		same authdata "-c $via authdata"
		same clients "$names $via clients -k"
		same clients "-c $via clients -p 1"
		same ntpdata "-c $via ntpdata"
		same ntpdata "$names $via ntpdata 127.0.0.2"
		same ntpdata "$names $via ntpdata ::1"
		same ntpdata "$names $via ntpdata 127.0.0.9"
		same serverstats "$names $via serverstats"
		same serverstats "-c $via serverstats"
		same activity "$names $via activity"
		same activity "-c $via activity"
		same rtcdata "$names $via rtcdata"
		same smoothing "$names $via smoothing"
		same sourcename "$names $via sourcename 127.0.0.1"
		same tracking "$names -m $via tracking activity sources"
		same waitsync "$names $via waitsync 3 0 0 0.1"
		same waitsync "-c $via waitsync 3 0 0 0.1"
		# Modifying commands: over UDP chronyd answers 501 Not authorised,
		# over the socket 200 OK (makestep: 500, the clock is not steered).
		for cmd in "burst 1/2" "burst 1/2 127.0.0.2" makestep "makestep 0.1 3" online "offline 127.0.0.9" \
			onoffline dump cyclelogs refresh rekey "reload sources" writertc trimrtc "delete 127.0.0.9" \
			burst "delete" nosuchcommand; do
			same status "$names $via $cmd"
		done
	done
done
# No daemon on that socket or port: the same failures.
same status "-h $work/sock/none.sock tracking"
same status "-h 127.0.0.1 -p 11169 tracking"
python3 "$work/compare.py" "$stratactl" <"$cases" || fail "stratactl differs from chronyc"

# Over the socket they took effect: a source added by stratactl shows up.
"$stratactl" -h "$sock" add server 127.0.0.3 port 11160 minpoll 0 >"$work/add.out" || fail "add server: $(cat "$work/add.out")"
[ "$(cat "$work/add.out")" = "200 OK" ] || fail "add server printed $(cat "$work/add.out")"
printf 'status\t-h %s add server 127.0.0.3 port 11160\n' "$sock" | python3 "$work/compare.py" "$stratactl" ||
	fail "add server (already present)"
chronyc -n -h "$sock" sources | grep -q "127.0.0.3" || fail "the added source is not listed"
"$stratactl" -h "$sock" delete 127.0.0.3 | grep -qx "200 OK" || fail "delete"

# JSON: every report parses, says what it is, and carries the version.
for cmd in tracking sources sourcestats selectdata authdata clients ntpdata serverstats activity \
	"sourcename 127.0.0.1" "waitsync 1" burst\ 1/2; do
	"$stratactl" -j -h "$sock" $cmd >"$work/j.out" || true
	python3 -m json.tool "$work/j.out" >/dev/null || fail "stratactl -j $cmd is not JSON: $(cat "$work/j.out")"
	python3 - "$work/j.out" "${cmd%% *}" <<'PY' || fail "stratactl -j $cmd: $(cat "$work/j.out")"
import json, sys
j = json.load(open(sys.argv[1]))
want = {"burst": "status"}.get(sys.argv[2], sys.argv[2])
assert j["version"] == 1 and j["report"] == want, j
PY
done
"$stratactl" -j -h 127.0.0.1 -p 11161 serverstats >"$work/j.out" && fail "serverstats over UDP succeeded"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["code"] == 501 and not j["success"], j' "$work/j.out" ||
	fail "refused -j: $(cat "$work/j.out")"
"$stratactl" -j -n -h "$sock" tracking | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["reference_address"] in ("127.0.0.1", "::1") and j["stratum"] == 2 and j["leap"] == "normal", j
assert abs(j["correction_s"]) < 0.1 and j["reference_time"].endswith("Z"), j' || fail "tracking JSON values"

# stratactl left no socket of its own behind.
[ -z "$(find "$work/sock" -name 'stratactl.*')" ] || fail "stratactl left its socket: $(ls "$work/sock")"

echo "stratactl_vs_chronyc: ok"
rm -rf "$work"
