#!/usr/bin/env bash
# stratad's command server against 10,000 random and mutated requests over
# UDP and the Unix socket (tests/integration/control_hostile.py): it stays
# up, answers with chrony reply packets no longer than the requests, refuses
# modifying commands over UDP, answers a good request afterwards, and exits
# cleanly.
#   control_hostile.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_private_netns
work=$(mktemp -d)
mkdir -m 0700 "$work/run"

cat >"$work/s.conf" <<CONF
local stratum 3
port 0
cmdport 11160
bindcmdaddress $work/run/stratad.sock
pidfile $work/stratad.pid
CONF
start_stratad "$build" "$work/s.conf" "$work/stratad.log"
wait_udp_port 11160 "$STRATAD_PID"
python3 "$here/control_hostile.py" 11160 "$work/run/stratad.sock" "$STRATAD_PID" \
	"$here/../fuzz/corpus/cmdmon" 10000 "${STRATA_HOSTILE_SEED:-1}" || fail "$(tail -n 20 "$work/stratad.log")"
stop_pid "$STRATAD_PID" || fail "stratad did not exit cleanly"
grep -q "stratad exiting" "$work/stratad.log" || fail "no exit message"
echo "control_hostile: ok"
