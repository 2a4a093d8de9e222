#!/usr/bin/env bash
# stratad under systemd, as far as it can be checked without systemd as
# PID 1: the unit file (dist/stratad.service.in) passes `systemd-analyze
# verify` (and `security`, offline), switches to _strata with the capability
# set it needs, `cmake --install` puts stratad, stratactl, the unit and the
# sysusers.d file where they belong, and stratad speaks sd_notify to a NOTIFY_SOCKET it is given:
# READY=1 with a STATUS= once it serves, a new STATUS= when it becomes
# synchronised, STOPPING=1 on SIGTERM.
#   systemd.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)

# The unit, pointed at this build's stratad (verify checks that it exists).
unit=$work/stratad.service
sed "s|^ExecStart=\(!\?\)[^ ]*|ExecStart=\1$build/daemon/stratad|" "$build/dist/stratad.service" >"$unit"
grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" || fail "systemd-analyze verify"
	echo "systemd-analyze verify: ok"
	# The sandbox as systemd rates it (lower is better; 3.5 when written).
	exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: exposure $exposure"
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 4.0) }' || fail "exposure '$exposure' above 4.0"
fi
# Least privilege: the daemon's own drop to _strata (systemd gives _strata
# the directories), the capabilities it needs to start and no others
# (privileges.sh starts stratad -u with exactly this set), chrony's
# directories writable when they exist, and a reload by SIGHUP (which
# sighup.sh shows stratad handles).
unit_value() { sed -n "s/^$1=//p" "$unit"; }
[ "$(unit_value User)" = _strata ] || fail "User= is '$(unit_value User)', not _strata"
unit_value ExecStart | grep -q "^!$build/daemon/stratad -n -u _strata \$STRATAD_OPTIONS$" ||
	fail "ExecStart does not start stratad as root with -u _strata: $(unit_value ExecStart)"
caps=" $(unit_value CapabilityBoundingSet) "
for cap in CAP_SYS_TIME CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID; do
	[[ "$caps" == *" $cap "* ]] || fail "CapabilityBoundingSet lacks $cap"
done
for cap in CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_RAW CAP_SYS_PTRACE; do
	[[ "$caps" != *" $cap "* ]] || fail "CapabilityBoundingSet keeps $cap"
done
for path in -/var/lib/chrony -/var/log/chrony -/run/chrony; do
	unit_value ReadWritePaths | tr ' ' '\n' | grep -qx -- "$path" || fail "ReadWritePaths lacks $path"
done
[ "$(unit_value ExecReload)" = '!/bin/kill -HUP $MAINPID' ] || fail "ExecReload: $(unit_value ExecReload)"
echo "unit: User=_strata, -u _strata, capabilities:$caps"

DESTDIR="$work/root" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
for f in sbin/stratad bin/stratactl lib/systemd/system/stratad.service lib/sysusers.d/strata.conf; do
	[ -e "$work/root$prefix/$f" ] || fail "cmake --install did not install $f"
done
grep -q "^ExecStart=!$prefix/sbin/stratad -n -u _strata" "$work/root$prefix/lib/systemd/system/stratad.service" ||
	fail "the installed unit does not start the installed stratad"
grep -q '^u _strata ' "$work/root$prefix/lib/sysusers.d/strata.conf" || fail "sysusers.d/strata.conf does not make _strata"
echo "cmake --install: stratad, stratactl, the unit and sysusers.d/strata.conf installed"

# sd_notify: a server to synchronise to, and a socket standing in for systemd's.
start_chronyd_server "$work" server 11170

cat >"$work/stratad.conf" <<CONF
server 127.0.0.1 port 11170 iburst minpoll -2 maxpoll -2
port 0
cmdport 0
bindcmdaddress $work/stratad.sock
pidfile $work/stratad.pid
CONF
python3 - "$work" "$build/daemon/stratad" <<'PY' || fail "sd_notify: $(cat "$work/stratad.log")"
import os, signal, socket, subprocess, sys, time
work, stratad = sys.argv[1], sys.argv[2]
path = os.path.join(work, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
env = dict(os.environ, NOTIFY_SOCKET=path)
log = open(os.path.join(work, "stratad.log"), "w")
p = subprocess.Popen([stratad, "-x", "-n", "-f", os.path.join(work, "stratad.conf")], env=env,
                     stdout=log, stderr=log)
try:
    messages = []
    def next_message():
        m = s.recv(4096).decode()
        print("sd_notify:", m.replace("\n", " | "))
        messages.append(m)
        return m
    m = next_message()
    while "READY=1" not in m:
        m = next_message()
    assert "STATUS=" in m, m
    deadline = time.time() + 20
    while "STATUS=Synchronised to 127.0.0.1 (stratum 2)" not in m:
        assert time.time() < deadline, messages
        m = next_message()
    p.send_signal(signal.SIGTERM)
    while "STOPPING=1" not in m:
        m = next_message()
    assert p.wait(10) == 0
finally:
    if p.poll() is None:
        p.kill()
        p.wait()
PY
echo PASS
