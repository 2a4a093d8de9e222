# Helpers for integration tests; source this file. Every test runs inside
# tests/integration/in_netns.sh, so daemons started here can never change the
# machine's clock or reach another host; they run with -x all the same.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# require_private_netns: refuse to go on outside the namespace in_netns.sh
# makes (where only `lo` exists and clock changes fail with EPERM). Tests
# that start stratad without -x call it first.
require_private_netns() {
	[ "$(ip -o link show | wc -l)" = 1 ] || fail "not inside tests/integration/in_netns.sh: refusing to run"
	# The initial user namespace maps every uid ("0 0 4294967295"); the one
	# unshare -r makes maps a single uid.
	[ "$(awk '{print $3}' /proc/self/uid_map)" != 4294967295 ] ||
		fail "not in a user namespace: refusing to run a daemon that could steer the clock"
}

# Processes this test started, stopped by PID on exit. One that died of
# SIGSYS (a system call the -F filter refuses kills the process with it)
# fails the test, whatever the test itself concluded.
STARTED_PIDS=()
cleanup_started() {
	local pid status sigsys=0
	for pid in "${STARTED_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]}"; do
		status=0
		wait "$pid" 2>/dev/null || status=$?
		if [ "$status" = $((128 + 31)) ]; then
			echo "FAIL: process $pid died of SIGSYS (a system call refused by the -F filter)" >&2
			sigsys=1
		fi
	done
	[ $sigsys = 0 ] || exit 1
}
trap cleanup_started EXIT

# STRATA_TEST_SECCOMP=1 (ctest's integration.seccomp.* pass): every stratad
# this test starts runs with -F 1, chronyd's allow-list level that Debian's
# /etc/default/chrony passes, so that a system call the filter lacks kills
# the daemon and fails the test. $build/daemon/stratad is covered, inside
# the test's own mount namespace only (in_netns.sh makes one and says so
# with STRATA_PRIVATE_MOUNTS=1), by a script that runs the real binary with
# -F 1 and the test's arguments (exec: same PID). Nothing outside the
# namespace sees it.
if [ "${STRATA_TEST_SECCOMP:-0}" = 1 ] && [ -z "${STRATA_SECCOMP_WRAPPED:-}" ]; then
	[ -n "${build:-}" ] || fail "STRATA_TEST_SECCOMP: \$build is not set before lib.sh is sourced"
	[ "${STRATA_PRIVATE_MOUNTS:-0}" = 1 ] || fail "STRATA_TEST_SECCOMP: not in a private mount namespace"
	seccomp_dir=$(mktemp -d)
	touch "$seccomp_dir/stratad"
	mount --bind "$build/daemon/stratad" "$seccomp_dir/stratad" || fail "STRATA_TEST_SECCOMP: bind mount"
	printf '#!/bin/sh\nexec %q -F 1 "$@"\n' "$seccomp_dir/stratad" >"$seccomp_dir/stratad-F1"
	chmod 0755 "$seccomp_dir/stratad-F1"
	mount --bind "$seccomp_dir/stratad-F1" "$build/daemon/stratad" || fail "STRATA_TEST_SECCOMP: bind mount"
	export STRATA_SECCOMP_WRAPPED=1
	echo "seccomp pass: $build/daemon/stratad runs with -F 1"
fi

# wait_udp_port PORT PID: until something listens on UDP PORT (5 s at most),
# failing early if PID died.
wait_udp_port() {
	local port=$1 pid=$2 i
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || fail "process $pid exited before listening on port $port"
		if ss -Hlun "sport = :$port" | grep -q .; then
			return 0
		fi
		sleep 0.05
	done
	fail "nothing listens on UDP port $port after 5 s"
}

# chronyc_socket_dir: the directory where chronyc binds its own socket to
# talk to a Unix command socket (/run/chrony; the namespace's /run is
# private).
chronyc_socket_dir() {
	mkdir -p /run/chrony
	chmod 0700 /run/chrony
}

# start_chronyd_server WORK NAME PORT [BINDADDRESS]: a chronyd -x serving
# `local stratum 1` to 127.0.0.0/8 (and ::1) on PORT, with no command
# socket; its files are WORK/NAME.conf, .log and .pid. Returns once it
# listens.
start_chronyd_server() {
	local work=$1 name=$2 port=$3 bind=${4:-}
	{
		echo "local stratum 1"
		echo "allow 127.0.0.0/8"
		echo "allow ::1"
		[ -z "$bind" ] || echo "bindaddress $bind"
		echo "port $port"
		echo "cmdport 0"
		echo "bindcmdaddress /"
		echo "pidfile $work/$name.pid"
	} >"$work/$name.conf"
	chronyd -x -d -u root -f "$work/$name.conf" >"$work/$name.log" 2>&1 &
	STARTED_PIDS+=($!)
	wait_udp_port "$port" $!
}

# start_stratad BUILD CONF LOG: starts stratad -x -d in the background and
# sets STRATAD_PID.
start_stratad() {
	local build=$1 conf=$2 log=$3
	"$build/daemon/stratad" -x -d -f "$conf" >"$log" 2>&1 &
	STRATAD_PID=$!
	STARTED_PIDS+=("$STRATAD_PID")
}

# stop_pid PID: SIGTERM, then wait for it; returns its exit status.
stop_pid() {
	local pid=$1 status=0
	kill "$pid"
	wait "$pid" || status=$?
	return $status
}
