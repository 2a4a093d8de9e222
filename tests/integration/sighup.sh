#!/usr/bin/env bash
# SIGHUP (systemctl reload, logrotate): stratad runs on, reads its
# `sourcedir` files again (a server added there is polled) and reopens its
# log files (the -l file and logdir's) after they were moved away; SIGTERM
# still ends it cleanly.
#   sighup.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
stratactl=$build/tools/stratactl
[ -x "$stratactl" ] || fail "no $stratactl"

start_chronyd_server "$work" server 11180
mkdir -m 0700 "$work/run"
mkdir "$work/sources.d" "$work/logs"
cat >"$work/stratad.conf" <<CONF
sourcedir $work/sources.d
logdir $work/logs
log measurements
port 0
cmdport 0
bindcmdaddress $work/run/stratad.sock
pidfile $work/stratad.pid
CONF
"$build/daemon/stratad" -x -d -l "$work/stratad.log" -f "$work/stratad.conf" 2>"$work/stderr" &
pid=$!
STARTED_PIDS+=("$pid")
sock=$work/run/stratad.sock
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
[ -S "$sock" ] || fail "no command socket: $(cat "$work/stratad.log" "$work/stderr")"

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	local seconds=$1 i
	shift
	for i in $(seq $((seconds * 10))); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || fail "stratad exited: $(tail -5 "$work/stratad.log")"
		sleep 0.1
	done
	return 1
}
lines() { grep -c "$2" "$1" 2>/dev/null || true; }

# No sources yet; a first SIGHUP with nothing changed.
kill -HUP "$pid"
wait_for 5 grep -q "Received SIGHUP" "$work/stratad.log" || fail "no SIGHUP line: $(cat "$work/stratad.log")"
kill -0 "$pid" || fail "stratad exited on SIGHUP"

# A server added to the sourcedir is polled after the next SIGHUP.
echo "server 127.0.0.1 port 11180 iburst minpoll -4 maxpoll -2" >"$work/sources.d/local.sources"
kill -HUP "$pid"
has_source() { "$stratactl" -h "$sock" -n sources 2>/dev/null | grep -q "127.0.0.1"; }
wait_for 10 has_source || fail "the added server is not a source: $("$stratactl" -h "$sock" -n sources 2>&1)"
wait_for 15 test -s "$work/logs/measurements.log" || fail "no measurements logged"

# logrotate: both files moved away, SIGHUP, new files with new lines.
mv "$work/stratad.log" "$work/stratad.log.1"
mv "$work/logs/measurements.log" "$work/logs/measurements.log.1"
kill -HUP "$pid"
wait_for 5 grep -q "Received SIGHUP" "$work/stratad.log" || fail "the -l file was not reopened"
wait_for 15 grep -q "127.0.0.1" "$work/logs/measurements.log" || fail "measurements.log was not reopened"
[ "$(lines "$work/stratad.log.1" "Received SIGHUP")" = 2 ] || fail "the moved -l file got lines after the SIGHUP"

# Still running, and SIGTERM ends it with status 0.
kill -0 "$pid" || fail "stratad exited"
stop_pid "$pid" || fail "stratad exited with status $? on SIGTERM"
STARTED_PIDS=("${STARTED_PIDS[@]/$pid}")
grep -q "stratad exiting" "$work/stratad.log" || fail "no exit line: $(tail -3 "$work/stratad.log")"
echo "PASS"
