#!/usr/bin/env bash
# Least privilege: `stratad -u nobody` opens what needs root (NTP port 123,
# command port 323, the command socket, the pid file), then switches to
# nobody and keeps CAP_SYS_TIME alone:
#  - /proc/PID/status shows UID and GID 65534, no supplementary groups, and
#    CapEff = CapPrm = CAP_SYS_TIME (0x2000000), nothing inheritable;
#  - it keeps serving (ntpdig gets stratum 2 on port 123) and answering
#    chronyc on its Unix socket, whose directory it made for nobody;
#  - it keeps steering: clock_recorder.so stands in for clock_adjtime
#    (refusing a change, as the kernel does, to a thread without
#    CAP_SYS_TIME; never changing the real clock) and records each change
#    with the caller's UID: changes as nobody, none refused;
#  - the drift file written at exit, the log files and the logdir it made
#    belong to nobody;
# and with -x, or the `user` directive alone, it keeps no capability.
#
# A user namespace made with `unshare -r` maps uid 0 only, so nobody cannot
# exist in it, and util-linux's --map-users needs newuidmap and /etc/subuid.
# This script, as real root (which may write any uid_map), makes a user,
# network, mount and PID namespace whose maps hold root and nobody (both
# as themselves), and runs its test in there; without root it is skipped
# (77). In there, clock changes fail with EPERM (CAP_SYS_TIME in a user
# namespace does not reach the host's clock), and only a loopback exists.
#   privileges.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${STRATA_PRIV_INNER:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
		echo "SKIP: needs real root (to map nobody into a user namespace) and a user nobody"
		exit 77
	fi
	setup=$(mktemp -d)
	mkfifo "$setup/go"
	printf '0 0 1\n%s %s 1\n' "$(id -u nobody)" "$(id -u nobody)" >"$setup/uid_map"
	printf '0 0 1\n%s %s 1\n' "$(id -g nobody)" "$(id -g nobody)" >"$setup/gid_map"
	# The inner side waits on the FIFO until its maps are written.
	STRATA_PRIV_INNER=1 STRATA_PRIVATE_MOUNTS=1 unshare -U -n -m --pid --fork -- \
		bash -c 'read -r _ <"$0" && exec "$@"' "$setup/go" "$0" "$@" &
	inner=$!
	for _ in $(seq 250); do
		[ "$(readlink "/proc/$inner/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.02
	done
	# One write(2) each: a map can be written once.
	cat "$setup/uid_map" >"/proc/$inner/uid_map"
	cat "$setup/gid_map" >"/proc/$inner/gid_map"
	echo go >"$setup/go"
	status=0
	wait "$inner" || status=$?
	rm -rf "$setup"
	exit $status
fi

# Inside: PID 1 of a new PID namespace, root and nobody mapped.
mount -t proc proc /proc
mount -t tmpfs -o mode=0755 tmpfs /run
ip link set lo up
. "$here/lib.sh"
require_private_netns
nobody=$(id -u nobody)
nogroup=$(id -g nobody)
[ "$(awk 'NR == 2 {print $1}' /proc/self/uid_map)" = "$nobody" ] || fail "nobody is not mapped: $(cat /proc/self/uid_map)"
recorder=$build/tests/integration/clock_recorder.so
[ -f "$recorder" ] || fail "no $recorder"
preload=(env LD_PRELOAD="$recorder")
if ldd "$build/daemon/stratad" 2>/dev/null | grep -q libasan; then
	# The recorder comes before ASan's runtime in the library list.
	preload+=(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
fi

work=$(mktemp -d)
chmod 0755 "$work"
mkdir "$work/state"
chown nobody:"$nogroup" "$work/state"
# The recorder writes as root at start, then as nobody.
touch "$work/adjust.log"
chmod 0666 "$work/adjust.log"
start_chronyd_server "$work" server 11190
chronyc_socket_dir

cat >"$work/stratad.conf" <<CONF
server 127.0.0.1 port 11190 iburst minpoll -4 maxpoll -4
allow 127.0.0.0/8
# -u nobody overrides this.
user root
driftfile $work/state/drift
pidfile $work/state/stratad.pid
bindcmdaddress $work/sock/stratad.sock
logdir $work/logs
log tracking measurements
CONF
STRATA_CLOCK_RECORD=$work/adjust.log "${preload[@]}" "$build/daemon/stratad" -d -u nobody -f "$work/stratad.conf" \
	>"$work/stratad.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
for _ in $(seq 100); do
	grep -q "Switched to user" "$work/stratad.log" && break
	kill -0 "$pid" 2>/dev/null || fail "stratad exited: $(cat "$work/stratad.log")"
	sleep 0.05
done
grep -q "Switched to user nobody (UID $nobody, GID $nogroup), capabilities: cap_sys_time=ep" "$work/stratad.log" ||
	fail "no switch to nobody logged: $(cat "$work/stratad.log")"

status_of() { awk -v k="$1:" '$1 == k {$1 = ""; print substr($0, 2)}' "/proc/$pid/status"; }
echo "/proc/$pid/status: Uid $(status_of Uid) | Gid $(status_of Gid) | Groups '$(status_of Groups)' |" \
	"CapEff $(status_of CapEff) CapPrm $(status_of CapPrm) CapInh $(status_of CapInh)"
[ "$(status_of Uid | tr -s ' \t' ' ')" = "$nobody $nobody $nobody $nobody" ] || fail "Uid: $(status_of Uid)"
[ "$(status_of Gid | tr -s ' \t' ' ')" = "$nogroup $nogroup $nogroup $nogroup" ] || fail "Gid: $(status_of Gid)"
[ -z "$(status_of Groups)" ] || fail "supplementary groups left: $(status_of Groups)"
[ "$(status_of CapEff)" = 0000000002000000 ] || fail "CapEff $(status_of CapEff), not CAP_SYS_TIME alone"
[ "$(status_of CapPrm)" = 0000000002000000 ] || fail "CapPrm $(status_of CapPrm), not CAP_SYS_TIME alone"
[ "$(status_of CapInh)" = 0000000000000000 ] || fail "CapInh $(status_of CapInh)"
# Every other thread (the NTP server's, the log writer) has none.
for task in /proc/$pid/task/*; do
	[ "$task" = "/proc/$pid/task/$pid" ] && continue
	eff=$(awk '$1 == "CapEff:" {print $2}' "$task/status")
	[ "$eff" = 0000000000000000 ] || fail "thread ${task##*/} has CapEff $eff"
done

# Serving after the switch: synchronised to the chronyd server, it answers
# on port 123 (bound before the switch) and on its command socket.
chronyc -h "$work/sock/stratad.sock" waitsync 40 0.01 >/dev/null ||
	fail "stratad did not synchronise: $(cat "$work/stratad.log")"
out=$(timeout 10 ntpdig -t 2 127.0.0.1 2>&1 | tail -n 1 || true)
echo "ntpdig: $out"
echo "$out" | grep -q " s2 no-leap" || fail "ntpdig got no stratum 2 answer on port 123: '$out'"
[ "$(stat -c '%U %a' "$work/sock")" = "nobody 750" ] || fail "socket directory: $(stat -c '%U %a' "$work/sock")"

# Steering after the switch: changes made as nobody, with CAP_SYS_TIME.
sleep 2
changes=$(grep -c "^uid=$nobody cap_sys_time=1 .* result=ok$" "$work/adjust.log" || true)
echo "clock changes as nobody: $changes (of $(wc -l <"$work/adjust.log") recorded)"
[ "$changes" -ge 3 ] || fail "too few clock changes as nobody: $(cat "$work/adjust.log")"
! grep -q "result=EPERM" "$work/adjust.log" || fail "a clock change was refused: $(grep EPERM "$work/adjust.log")"
! grep -q "Not allowed to control the system clock" "$work/stratad.log" || fail "stratad did not steer"

stop_pid "$pid" || fail "stratad did not exit cleanly: $(cat "$work/stratad.log")"
STARTED_PIDS=("${STARTED_PIDS[0]}")  # the chronyd server
[ -s "$work/state/drift" ] || fail "no drift file written: $(cat "$work/stratad.log")"
[ "$(stat -c %U "$work/state/drift")" = nobody ] || fail "drift file owned by $(stat -c %U "$work/state/drift")"
[ "$(stat -c '%U %a' "$work/logs")" = "nobody 750" ] || fail "logdir: $(stat -c '%U %a' "$work/logs")"
[ "$(stat -c %U "$work/logs/tracking.log")" = nobody ] || fail "tracking.log owned by $(stat -c %U "$work/logs/tracking.log")"
[ ! -e "$work/state/stratad.pid" ] || fail "the pid file was not removed at exit"
echo "drift file, logdir and log files belong to nobody; pid file removed"

# With -x nothing is steered: the `user` directive alone switches, and no
# capability is kept.
cat >"$work/x.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
user nobody
pidfile /
bindcmdaddress /
cmdport 0
CONF
"$build/daemon/stratad" -x -d -f "$work/x.conf" >"$work/x.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_udp_port 123 "$pid"
for _ in $(seq 100); do
	grep -q "Switched to user" "$work/x.log" && break
	sleep 0.05
done
grep -q "Switched to user nobody (UID $nobody, GID $nogroup), capabilities: none" "$work/x.log" ||
	fail "-x: $(cat "$work/x.log")"
[ "$(status_of CapEff)" = 0000000000000000 ] || fail "-x: CapEff $(status_of CapEff)"
[ "$(status_of CapPrm)" = 0000000000000000 ] || fail "-x: CapPrm $(status_of CapPrm)"
out=$(timeout 10 ntpdig -t 2 127.0.0.1 2>&1 | tail -n 1 || true)
echo "$out" | grep -q " s3 no-leap" || fail "-x: ntpdig got no stratum 3 answer: '$out'"
stop_pid "$pid" || fail "stratad -x did not exit cleanly: $(cat "$work/x.log")"
STARTED_PIDS=("${STARTED_PIDS[0]}")

# The unit's capability bounding set (dist/stratad.service.in) is enough to
# start as root and switch, with directories laid out as systemd makes them
# for User=: the runtime directory (pid file, command socket) and the state
# directory belong to the user; a missing logdir and dumpdir are made for
# the user (CAP_CHOWN). Without CAP_DAC_OVERRIDE root could not write its
# pid file into the user's directory: the reason the unit keeps it.
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$build/dist/stratad.service" | tr 'A-Z' 'a-z' |
	sed 's/cap_/+/g; s/ /,/g')
[ -n "$bounding" ] || fail "no CapabilityBoundingSet in the unit"
mkdir -m 0750 "$work/unit-run" "$work/unit-state"
chown nobody:"$nogroup" "$work/unit-run" "$work/unit-state"
cat >"$work/unit.conf" <<CONF
server 127.0.0.1 port 11190 iburst minpoll -4 maxpoll -4
allow 127.0.0.0/8
driftfile $work/unit-state/drift
pidfile $work/unit-run/stratad.pid
bindcmdaddress $work/unit-run/stratad.sock
logdir $work/unit-state/log
log tracking
dumpdir $work/unit-state/dump
CONF
# unit_start BOUNDING LOG [TIMEOUT]: stratad as the unit starts it (-n, as
# root with that bounding set, no new privileges), in the foreground.
unit_start() {
	local limit=()
	[ -z "${3:-}" ] || limit=(timeout "$3")
	exec "${limit[@]}" setpriv --bounding-set "-all,$1" --no-new-privs "$build/daemon/stratad" -n -x -L 0 \
		-l "$2" -u nobody -f "$work/unit.conf"
}
(unit_start "$bounding" "$work/unit.log") &
pid=$!
STARTED_PIDS+=("$pid")
for _ in $(seq 100); do
	grep -q "Switched to user nobody" "$work/unit.log" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || fail "stratad with the unit's capabilities ($bounding) exited: $(cat "$work/unit.log")"
	sleep 0.05
done
grep -q "Switched to user nobody" "$work/unit.log" || fail "unit set: no switch: $(cat "$work/unit.log")"
[ "$(cat "$work/unit-run/stratad.pid")" = "$pid" ] || fail "unit set: pid file $(cat "$work/unit-run/stratad.pid"), not $pid"
[ "$(stat -c '%U %a' "$work/unit-state/log")" = "nobody 750" ] || fail "unit set: logdir $(stat -c '%U %a' "$work/unit-state/log")"
[ "$(stat -c '%U %a' "$work/unit-state/dump")" = "nobody 750" ] || fail "unit set: dumpdir $(stat -c '%U %a' "$work/unit-state/dump")"
[ -S "$work/unit-run/stratad.sock" ] || fail "unit set: no command socket: $(cat "$work/unit.log")"
chronyc -h "$work/unit-run/stratad.sock" waitsync 40 0.01 >/dev/null || fail "unit set: not synchronised: $(cat "$work/unit.log")"
out=$(timeout 10 ntpdig -t 2 127.0.0.1 2>&1 | tail -n 1 || true)
echo "$out" | grep -q "127.0.0.1 s" || fail "unit set: no NTP answer on port 123: '$out'"
! grep -q "cannot write in" "$work/unit.log" || fail "unit set: $(grep "cannot write in" "$work/unit.log")"
# The -l file it created before the switch is nobody's: SIGHUP reopens it.
[ "$(stat -c %U "$work/unit.log")" = nobody ] || fail "unit set: -l file owned by $(stat -c %U "$work/unit.log")"
kill -HUP "$pid"
for _ in $(seq 100); do
	grep -q "Received SIGHUP" "$work/unit.log" && break
	sleep 0.05
done
grep -q "Received SIGHUP" "$work/unit.log" || fail "unit set: SIGHUP not handled: $(cat "$work/unit.log")"
! grep -q "Could not reopen" "$work/unit.log" || fail "unit set: $(grep "Could not reopen" "$work/unit.log")"
stop_pid "$pid" || fail "unit set: stratad did not exit cleanly: $(cat "$work/unit.log")"
STARTED_PIDS=("${STARTED_PIDS[0]}")
echo "the unit's bounding set ($bounding): started, switched, made logdir and dumpdir for nobody, served"
if (unit_start "${bounding//,+dac_override/}" "$work/unit-nodac.log" 10) 2>/dev/null; then
	fail "started without CAP_DAC_OVERRIDE: the unit would not need it"
fi
grep -q "Could not open pidfile $work/unit-run/stratad.pid: Permission denied" "$work/unit-nodac.log" ||
	fail "without CAP_DAC_OVERRIDE: $(tail -n 3 "$work/unit-nodac.log")"
echo "without CAP_DAC_OVERRIDE: $(grep -o "Could not open pidfile.*" "$work/unit-nodac.log")"

# Debian's default chrony.conf (its paths moved here) as Debian's
# /etc/default/chrony starts chronyd: -F 1, and the switch. Its pool name
# cannot be resolved in here (only a loopback), which takes the resolver's
# DNS path under the filter.
mkdir -m 0750 "$work/debian"
chown nobody:"$nogroup" "$work/debian"
sed -e "s|/etc/chrony/conf.d|$work/debian/conf.d|; s|/run/chrony-dhcp|$work/debian/dhcp|" \
	-e "s|/etc/chrony/sources.d|$work/debian/sources.d|; s|/etc/chrony/chrony.keys|$work/debian/chrony.keys|" \
	-e "s|/var/lib/chrony|$work/debian|g; s|/var/log/chrony|$work/debian/log|" \
	"$here/../golden/conf/good/debian12-default.conf" >"$work/debian.conf"
printf 'pidfile %s\nbindcmdaddress %s\n' "$work/debian/stratad.pid" "$work/debian/sock/stratad.sock" >>"$work/debian.conf"
"$build/daemon/stratad" -d -x -F 1 -u nobody -t 4 -f "$work/debian.conf" >"$work/debian.log" 2>&1 ||
	fail "Debian's chrony.conf with -F 1: exit $?: $(cat "$work/debian.log")"
grep -q "Loaded seccomp filter (level 1)" "$work/debian.log" || fail "no filter loaded: $(cat "$work/debian.log")"
grep -q "Could not resolve 2.debian.pool.ntp.org" "$work/debian.log" || fail "the pool name was not tried: $(cat "$work/debian.log")"
echo "Debian's chrony.conf with -F 1 -u nobody: ran 4 s, resolver tried, exit 0"
echo PASS
