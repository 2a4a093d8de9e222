#!/usr/bin/env bash
# stratactl's `add server|pool|peer` against chronyc 4.3's, byte for byte:
# a recorder on a UDP port keeps every request datagram and answers
# "200 OK"; chronyc and stratactl send the same add lines to it, and the
# requests must be equal but for the sequence number (random in each), as
# must what both print and their exit status. Lines chronyc refuses are
# refused by stratactl too (with the configuration parser's message after
# chronyc's words) and send nothing; options chronyc 4.3's request cannot
# carry (ipv4, extfield F324) are refused by both, stratactl saying why.
#   stratactl_add_request.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
stratactl=$build/tools/stratactl
[ -x "$stratactl" ] || fail "no $stratactl"
port=11170

cat >"$work/recorder.py" <<'PY'
import socket, struct, sys
out = sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(2048)
    with open(out, "a") as f:
        f.write(data.hex() + "\n")
    if len(data) < 20:
        continue
    # chrony's CMD_Reply header: version 6, reply, the command and sequence
    # echoed, RPY_NULL, STT_SUCCESS.
    command, sequence = data[4:6], data[8:12]
    s.sendto(bytes([6, 2, 0, 0]) + command + struct.pack(">HH", 1, 0) + bytes(6) + sequence + bytes(8), peer)
PY
python3 "$work/recorder.py" $port "$work/requests" &
STARTED_PIDS+=($!)
wait_udp_port $port $!

# run PROGRAM ARGS...: its output, exit status and the requests it sent
# (sequence numbers masked) in $work/PROGRAM.*.
run() {
	local name=$1
	shift
	: >"$work/requests"
	local status=0
	"$@" >"$work/$name.out" 2>&1 || status=$?
	echo "$status" >"$work/$name.status"
	sed -E 's/^(.{16}).{8}/\1XXXXXXXX/' "$work/requests" >"$work/$name.requests"
}

same=0
while IFS= read -r line; do
	run chronyc chronyc -h 127.0.0.1 -p $port $line
	run stratactl "$stratactl" -h 127.0.0.1 -p $port $line
	[ -s "$work/chronyc.requests" ] || fail "chronyc sent nothing for: $line ($(cat "$work/chronyc.out"))"
	cmp -s "$work/chronyc.requests" "$work/stratactl.requests" ||
		fail "$line: the requests differ:$(printf '\nchronyc   %s\nstratactl %s' \
			"$(cat "$work/chronyc.requests")" "$(cat "$work/stratactl.requests")")"
	cmp -s "$work/chronyc.out" "$work/stratactl.out" ||
		fail "$line: chronyc printed '$(cat "$work/chronyc.out")', stratactl '$(cat "$work/stratactl.out")'"
	cmp -s "$work/chronyc.status" "$work/stratactl.status" || fail "$line: exit statuses differ"
	same=$((same + 1))
done <<'CASES'
add server 127.0.0.1
add server 127.0.0.1 iburst minpoll 4
add pool 127.0.0.1 maxsources 2 minpoll -2 maxdelay 0.5 prefer offline key 7 extfield F323
add server ::1 burst trust require auto_offline presend 9 minstratum 2 version 3 noselect copy xleave nts
add peer 127.0.0.2 port 11123 maxdelayratio 2 maxdelaydevratio 5 mindelay 0.0001
add server 127.0.0.1 ntsport 4461 certset 1 minsamples 4 maxsamples 32 maxdelayquant 0.25 filter 3 asymmetry 0.1 offset -0.002 polltarget 16
add SERVER 127.0.0.1 IBURST MaxPoll 8 extfield 0xf323 Offline
add server 127.0.0.1 presend 0 asymmetry -0.5 key 4294967295 minpoll 6 maxsamples 0
add server 127.0.0.1 maxdelay 1e-3 offset +2.5 minpoll +3
CASES

# Refused by both before anything is sent: chronyc says "Invalid syntax for
# add command"; stratactl says it too and what is wrong, or why the request
# cannot carry the option.
refused=0
while IFS=$'\t' read -r line want; do
	run chronyc chronyc -h 127.0.0.1 -p $port $line
	run stratactl "$stratactl" -h 127.0.0.1 -p $port $line
	[ "$(cat "$work/chronyc.out")" = "Invalid syntax for add command" ] ||
		fail "$line: chronyc printed '$(cat "$work/chronyc.out")'"
	[ "$(cat "$work/stratactl.out")" = "$want" ] || fail "$line: stratactl printed '$(cat "$work/stratactl.out")'"
	[ "$(cat "$work/chronyc.status")" != 0 ] && [ "$(cat "$work/stratactl.status")" != 0 ] ||
		fail "$line: exit statuses $(cat "$work/chronyc.status") and $(cat "$work/stratactl.status")"
	[ ! -s "$work/chronyc.requests" ] && [ ! -s "$work/stratactl.requests" ] || fail "$line: a request was sent"
	refused=$((refused + 1))
done <<'CASES'
add client 127.0.0.1	Invalid syntax for add command
add server	Invalid syntax for add command
add server 127.0.0.1 ibrust	Invalid syntax for add command: unknown option 'ibrust' (did you mean 'iburst'?)
add server 127.0.0.1 port	Invalid syntax for add command: option 'port' needs a value
add server 127.0.0.1 key 0	Invalid syntax for add command: key 0 out of range 1..4294967295
add server 127.0.0.1 minpoll four	Invalid syntax for add command: minpoll: 'four' is not an integer
add server 127.0.0.1 ipv4	Option ipv4 can't be set in an add command: chronyc's request has no field for it (a server line in a sourcedir file and `reload sources` can set it)
add server 127.0.0.1 maxunreach 5	Option maxunreach can't be set in an add command: chronyc's request has no field for it (a server line in a sourcedir file and `reload sources` can set it)
add server 127.0.0.1 extfield F324	extfield F324 can't be set in an add command: chronyc's request has no field for it (a server line in a sourcedir file and `reload sources` can set it)
CASES

# Where strata is stricter than chronyc: chronyc sends values out of the
# ranges chrony.conf takes (chronyd clamps some); stratactl refuses them
# with the parser's message, as stratad would refuse the request.
run chronyc chronyc -h 127.0.0.1 -p $port add server 127.0.0.1 minpoll 99
run stratactl "$stratactl" -h 127.0.0.1 -p $port add server 127.0.0.1 minpoll 99
[ -s "$work/chronyc.requests" ] || fail "chronyc did not send minpoll 99"
[ ! -s "$work/stratactl.requests" ] || fail "stratactl sent minpoll 99"
[ "$(cat "$work/stratactl.out")" = "Invalid syntax for add command: minpoll 99 out of range -7..24" ] ||
	fail "minpoll 99: stratactl printed '$(cat "$work/stratactl.out")'"

echo "stratactl_add_request: $same requests equal, $refused refused alike: ok"
rm -rf "$work"
