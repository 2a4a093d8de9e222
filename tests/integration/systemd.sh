#!/usr/bin/env bash
# stratad under systemd, as far as it can be checked without systemd as
# PID 1: the unit file (dist/stratad.service.in) passes `systemd-analyze
# verify`, `cmake --install` puts stratad, stratactl and the unit where they
# belong, and stratad speaks sd_notify to a NOTIFY_SOCKET it is given:
# READY=1 with a STATUS= once it serves, a new STATUS= when it becomes
# synchronised, STOPPING=1 on SIGTERM.
#   systemd.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)

# The unit, pointed at this build's stratad (verify checks that it exists).
sed "s|^ExecStart=[^ ]*|ExecStart=$build/daemon/stratad|" "$build/dist/stratad.service" >"$work/stratad.service"
grep -q '^Type=notify$' "$work/stratad.service" || fail "the unit is not Type=notify"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$work/stratad.service" || fail "systemd-analyze verify"
	echo "systemd-analyze verify: ok"
fi

DESTDIR="$work/root" cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
for f in sbin/stratad bin/stratactl lib/systemd/system/stratad.service; do
	[ -e "$work/root$prefix/$f" ] || fail "cmake --install did not install $f"
done
grep -q "^ExecStart=$prefix/sbin/stratad -n" "$work/root$prefix/lib/systemd/system/stratad.service" ||
	fail "the installed unit does not start the installed stratad"
echo "cmake --install: stratad, stratactl and the unit installed"

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
