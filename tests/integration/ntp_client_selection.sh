#!/usr/bin/env bash
# stratad -x with three chronyd -x servers (127.0.0.2, .3, .4): it selects
# one and combines the others; `noselect` is never selected, `prefer` is; a
# `require` source that does not answer keeps stratad from synchronising.
#   ntp_client_selection.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
stratad=$build/daemon/stratad

for n in 2 3 4; do
	cat >"$work/chronyd$n.conf" <<CONF
local stratum 1
allow 127.0.0.0/8
bindaddress 127.0.0.$n
port 11150
cmdport 0
pidfile $work/chronyd$n.pid
CONF
	chronyd -x -d -u root -f "$work/chronyd$n.conf" >"$work/chronyd$n.log" 2>&1 &
	STARTED_PIDS+=("$!")
done
for _ in $(seq 100); do
	[ "$(ss -Hlun "sport = :11150" | wc -l)" = 3 ] && break
	sleep 0.05
done
[ "$(ss -Hlun "sport = :11150" | wc -l)" = 3 ] || fail "the three chronyd servers do not listen"

# run_stratad NAME SECONDS DIRECTIVE...: stratad -x with these sources for a while
# (a source is selectable from its third sample: about 4 s with iburst).
run_stratad() {
	local name=$1 seconds=$2
	shift 2
	printf '%s\n' "$@" "port 0" "pidfile $work/$name.pid" >"$work/$name.conf"
	"$stratad" -x -d -L -1 -f "$work/$name.conf" >"$work/$name.log" 2>&1 &
	local pid=$!
	sleep "$seconds"
	kill "$pid"
	wait "$pid" || fail "stratad ($name) exited $?"
}

# run_stratad_until NAME SECONDS PATTERN DIRECTIVE...: as run_stratad, but
# stopped as soon as its log shows PATTERN (at most SECONDS): on a busy
# machine the loopback's jitter can keep a source out of the combination
# for the first updates.
run_stratad_until() {
	local name=$1 seconds=$2 pattern=$3
	shift 3
	printf '%s\n' "$@" "port 0" "pidfile $work/$name.pid" >"$work/$name.conf"
	"$stratad" -x -d -L -1 -f "$work/$name.conf" >"$work/$name.log" 2>&1 &
	local pid=$! waited=0
	while [ "$waited" -lt $((seconds * 2)) ] && ! grep -q -- "$pattern" "$work/$name.log"; do
		sleep 0.5
		waited=$((waited + 1))
	done
	kill "$pid"
	wait "$pid" || fail "stratad ($name) exited $?"
}

run_stratad_until plain 40 "(+2 combined)" "server 127.0.0.2 port 11150 iburst" "server 127.0.0.3 port 11150 iburst" \
	"server 127.0.0.4 port 11150 iburst"
grep -q "Selected source 127.0.0.[234]" "$work/plain.log" || fail "plain: nothing selected: $(cat "$work/plain.log")"
grep -q "(+2 combined)" "$work/plain.log" || fail "plain: the three sources were never combined"
echo "plain: $(grep -m1 'Selected source' "$work/plain.log" | cut -d' ' -f2-); $(grep -c '(+2 combined)' "$work/plain.log") updates combined all three"

run_stratad options 10 "server 127.0.0.2 port 11150 iburst noselect" "server 127.0.0.3 port 11150 iburst prefer" \
	"server 127.0.0.4 port 11150 iburst"
grep -q "Selected source 127.0.0.3" "$work/options.log" || fail "prefer: 127.0.0.3 not selected: $(cat "$work/options.log")"
! grep -q "Selected source 127.0.0.2" "$work/options.log" || fail "noselect: 127.0.0.2 was selected"
! grep -q "Selected source 127.0.0.4" "$work/options.log" || fail "prefer: 127.0.0.4 was selected over the preferred source"
echo "options: noselect never selected, prefer selected"

run_stratad require 10 "server 127.0.0.9 port 11150 iburst require" "server 127.0.0.3 port 11150 iburst" \
	"server 127.0.0.4 port 11150 iburst"
! grep -q "Selected source" "$work/require.log" || fail "require: selected without the required source"
run_stratad require2 10 "server 127.0.0.2 port 11150 iburst require" "server 127.0.0.3 port 11150 iburst"
grep -q "Selected source" "$work/require2.log" || fail "require: a reachable required source did not allow selection"
echo "require: no selection while the required source is silent, selection once it answers"

for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid" || true; done
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_client_selection: ok"
