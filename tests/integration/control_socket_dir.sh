#!/usr/bin/env bash
# The command socket's directory as chronyd treats it: a missing one is
# created (mode 0750, parents 0755); one others may enter or a path through
# a file gives a clear line, "Disabled command socket PATH", and no Unix
# socket (UDP still answers); a good one serves chronyc. (Owners and groups
# other than root cannot be made in this namespace: daemon_linux_test's
# CommandDirectory tests check them.) Each stratad runs with -t and UDP commands on, so that it is seen
# to start and serve without its Unix socket.
#   control_socket_dir.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
stratad=$build/daemon/stratad
work=$(mktemp -d)
chmod 0755 "$work"  # the parent of each case: others may enter it, not its children
chronyc_socket_dir

# run_case NAME SOCKET: stratad -t 1 with the command socket at SOCKET;
# asks it for tracking over UDP meanwhile. Its log is $work/NAME.log.
run_case() {
	local name=$1 socket=$2 port=11180
	cat >"$work/$name.conf" <<CONF
local stratum 3
port 0
cmdport $port
bindcmdaddress $socket
pidfile $work/$name.pid
CONF
	"$stratad" -x -d -t 1 -f "$work/$name.conf" >"$work/$name.log" 2>&1 &
	local pid=$!
	STARTED_PIDS+=("$pid")
	wait_udp_port "$port" "$pid"
	chronyc -n -h 127.0.0.1 -p "$port" tracking | grep -q "^Stratum         : 3$" ||
		fail "$name: no UDP answer: $(cat "$work/$name.log")"
	if [ -S "$socket" ]; then
		stat -c %a "$socket" >"$work/$name.mode"
		# A datagram longer than any request is dropped, not parsed cut;
		# the socket answers on.
		python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"{" + b" " * 6000 + b"}", sys.argv[1])' "$socket"
		chronyc -n -h "$socket" tracking >"$work/$name.chronyc" 2>&1 || true
	fi
	wait "$pid" || fail "$name: stratad exited $?: $(cat "$work/$name.log")"
	STARTED_PIDS=()
}

expect_lines() {
	local name=$1
	shift
	for line in "$@"; do
		grep -qF "$line" "$work/$name.log" || fail "$name: no '$line' in: $(cat "$work/$name.log")"
	done
}

# Good: a directory only root may enter.
mkdir -m 0700 "$work/good"
run_case good "$work/good/stratad.sock"
grep -q "^Stratum         : 3$" "$work/good.chronyc" || fail "good: chronyc over the Unix socket: $(cat "$work/good.chronyc")"
expect_lines good "Serving commands on Unix socket $work/good/stratad.sock" \
	"Command socket: dropped a datagram of 6002 bytes (at most 4096)"
[ "$(cat "$work/good.mode")" = 666 ] || fail "good: socket made with mode $(cat "$work/good.mode")"

# Missing, two levels deep: created, and the socket serves.
run_case missing "$work/new/run/stratad.sock"
[ "$(stat -c %a "$work/new")" = 755 ] || fail "missing: parent made with mode $(stat -c %a "$work/new")"
[ "$(stat -c %a "$work/new/run")" = 750 ] || fail "missing: directory made with mode $(stat -c %a "$work/new/run")"
grep -q "^Stratum         : 3$" "$work/missing.chronyc" || fail "missing: chronyc: $(cat "$work/missing.chronyc" 2>&1)"

# Others may enter: refused, left as it is, no socket.
mkdir -m 0755 "$work/open"
run_case open "$work/open/stratad.sock"
[ ! -e "$work/open/stratad.sock" ] || fail "open: a socket was made in a directory others may enter"
[ "$(stat -c %a "$work/open")" = 755 ] || fail "open: the directory's mode was changed"
expect_lines open "Wrong permissions on $work/open (mode 0755: others may enter it; the command socket's directory must not be accessible by others)" \
	"Disabled command socket $work/open/stratad.sock"
! grep -q "Serving commands on Unix socket" "$work/open.log" || fail "open: says it serves the Unix socket"

# A file where a directory should be: nothing is created.
touch "$work/file"
run_case file "$work/file/run/stratad.sock"
expect_lines file "$work/file is not a directory" "Disabled command socket $work/file/run/stratad.sock"

echo "control_socket_dir: good, missing, open and a file in the path as chronyd"
