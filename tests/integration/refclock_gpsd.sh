#!/usr/bin/env bash
# Reference clocks end to end with real programs:
#  1. SHM: Debian's gpsd, fed NMEA over TCP by nmea_feeder.py, writes SHM
#     segment 0; `stratad -x` with `refclock SHM 0 refid GPS` selects it and
#     serves stratum 1 with reference id GPS to ntpdig.
#  2. SOCK: gpsd writes chronyd's SOCK socket only for serial and PPS devices
#     (its PPS thread), which this machine lacks; sock_writer.py sends the
#     same struct sock_sample datagrams gpsd sends, and stratad with
#     `refclock SOCK PATH refid GPS` selects it and serves stratum 1.
#
# gpsd drops privileges with setuid, which a user namespace refuses; so this
# script runs gpsd as real root inside its own network, IPC, mount and PID
# namespaces (a private /run, private SysV segments, only a loopback), and
# every time daemon inside a user + network namespace within those, with -x:
# no clock can be changed. Needs root; skipped (77) otherwise.
#   refclock_gpsd.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(cd "$(dirname "$0")" && pwd)

if [ "${STRATA_GPSD_INNER:-}" = "" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v gpsd >/dev/null; then
		echo "SKIP: needs root and gpsd (gpsd drops privileges; it cannot run in a user namespace)"
		exit 77
	fi
	STRATA_GPSD_INNER=outer STRATA_PRIVATE_MOUNTS=1 exec unshare -n -i -m --pid --fork --mount-proc -- "$0" "$@"
fi

. "$here/lib.sh"

if [ "$STRATA_GPSD_INNER" = outer ]; then
	# Real root, private namespaces: gpsd and the NMEA feeder.
	mount -t tmpfs tmpfs /run
	ip link set lo up
	work=$(mktemp -d)
	python3 "$here/nmea_feeder.py" 5000 &
	STARTED_PIDS+=($!)
	for _ in $(seq 100); do ss -Hltn "sport = :5000" | grep -q . && break; sleep 0.05; done
	gpsd -n -N -S 12948 tcp://127.0.0.1:5000 >"$work/gpsd.log" 2>&1 &
	STARTED_PIDS+=($!)
	# The daemons: a user namespace (clock changes fail with EPERM) with
	# its own network namespace (port 123 is its own), sharing the IPC
	# namespace with gpsd.
	STRATA_GPSD_INNER=daemons unshare -U -r -n -- "$0" "$@" || fail "stratad side failed (gpsd: $(tail -n 5 "$work/gpsd.log"))"
	exit 0
fi

# In the user namespace: stratad and its clients.
ip link set lo up
require_private_netns
work=$(mktemp -d)
stratad=$build/daemon/stratad

# serve_check NAME: waits (60 s at most) until ntpdig sees stratum 1 from
# stratad on port 123, then checks the reference id is GPS.
serve_check() {
	local name=$1 out="" i
	for i in $(seq 30); do
		kill -0 "$STRATAD_PID" 2>/dev/null || fail "$name: stratad exited: $(cat "$work/$name.log")"
		if grep -q "Selected source GPS" "$work/$name.log"; then
			out=$(timeout 10 ntpdig -t 2 127.0.0.1 2>&1 | tail -n 1 || true)
			echo "$out" | grep -q " s1 " && break
		fi
		sleep 2
	done
	echo "$name: $out"
	echo "$out" | grep -q " s1 no-leap" || fail "$name: ntpdig does not see stratum 1: '$out' ($(cat "$work/$name.log"))"
	python3 - <<'PY' || fail "$name: wrong reference id"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", 123))
r, _ = s.recvfrom(100)
print(f"stratum {r[1]} refid {r[12:16]!r}")
assert r[1] == 1 and r[12:16] == b"GPS\0", r[:16]
PY
}

# 1. SHM 0 from gpsd.
cat >"$work/shm.conf" <<CONF
refclock SHM 0 refid GPS precision 1e-1 delay 0.2 poll 2
allow 127.0.0.0/8
cmdport 0
pidfile $work/shm.pid
CONF
start_stratad "$build" "$work/shm.conf" "$work/shm.log"
serve_check shm
grep -E "Selected source GPS \(SHM 0\)" "$work/shm.log"
stop_pid "$STRATAD_PID" || fail "stratad (SHM) did not exit cleanly"

# 2. SOCK, with gpsd's datagrams.
mkdir -m 0700 "$work/run"
sock=$work/run/chrony.ttyGPS.sock
cat >"$work/sock.conf" <<CONF
refclock SOCK $sock refid GPS precision 1e-3 poll 2
allow 127.0.0.0/8
cmdport 0
pidfile $work/sock.pid
CONF
start_stratad "$build" "$work/sock.conf" "$work/sock.log"
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "stratad did not create $sock: $(cat "$work/sock.log")"
python3 "$here/sock_writer.py" "$sock" &
STARTED_PIDS+=($!)
serve_check sock
grep -E "Selected source GPS \(SOCK " "$work/sock.log"
stop_pid "$STRATAD_PID" || fail "stratad (SOCK) did not exit cleanly"
[ ! -e "$sock" ] || fail "stratad left $sock behind"
echo "PASS"
