#!/usr/bin/env bash
# Real NTP clients against stratad serving `local stratum 3`: chronyd -Q,
# ntpdig, sntp and ntpdate each see stratum 3, no leap warning and an offset
# under 10 ms; tshark decodes every response without a malformed packet.
#   ntp_clients.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
STARTED_PIDS=()

# ntpdig, sntp and ntpdate only ask port 123; chronyd -Q asks a test port.
for port in 123 11123; do
	cat >"$work/s$port.conf" <<CONF
local stratum 3
allow 127.0.0.0/8
port $port
cmdport 0
pidfile $work/stratad$port.pid
CONF
	start_stratad "$build" "$work/s$port.conf" "$work/stratad$port.log"
	wait_udp_port $port "$STRATAD_PID"
done

tshark -q -i lo -f 'udp port 123 or udp port 11123' -w "$work/ntp.pcap" >/dev/null 2>&1 &
tshark_pid=$!
STARTED_PIDS+=("$tshark_pid")
sleep 1.5  # tshark starts capturing asynchronously

# "2026-11-24 23:52:48.297301 (+0000) +0.000024 +/- 0.000046 127.0.0.1 s3 no-leap"
check_sntp_line() {
	local who=$1 line=$2
	echo "$who: $line"
	python3 - "$who" "$line" <<'PY'
import re, sys
who, line = sys.argv[1], sys.argv[2]
m = re.search(r"\(\+0000\) ([+-]\d+\.\d+) \+/- (\d+\.\d+) 127\.0\.0\.1 s(\d+) (\S+)", line)
assert m, f"{who}: unexpected output {line!r}"
offset, stratum, leap = float(m.group(1)), int(m.group(3)), m.group(4)
assert stratum == 3, f"{who}: stratum {stratum}, expected 3"
assert leap == "no-leap", f"{who}: leap {leap}"
assert abs(offset) < 0.01, f"{who}: offset {offset} s"
PY
}
check_sntp_line ntpdig "$(timeout 10 ntpdig -t 2 127.0.0.1 | tail -n 1)"
check_sntp_line sntp "$(timeout 10 sntp -t 2 127.0.0.1 2>&1 | tail -n 1)"
check_sntp_line ntpdate "$(timeout 10 ntpdate -q 127.0.0.1 2>&1 | tail -n 1)"

out=$(timeout 15 chronyd -Q -u root -t 10 'server 127.0.0.1 port 11123 iburst' 2>&1)
echo "chronyd -Q: $out"
python3 - "$out" <<'PY'
import re, sys
m = re.search(r"System clock wrong by ([+-]?\d+\.\d+) seconds", sys.argv[1])
assert m, "chronyd -Q printed no offset: " + sys.argv[1]
assert abs(float(m.group(1))) < 0.01, "chronyd -Q offset " + m.group(1)
PY

sleep 1
kill -INT "$tshark_pid"
wait "$tshark_pid" || true
decode=(-r "$work/ntp.pcap" -d udp.port==11123,ntp)
responses=$(tshark "${decode[@]}" -Y 'ntp.flags.mode == 4' 2>/dev/null | wc -l)
malformed=$(tshark "${decode[@]}" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null | wc -l)
echo "tshark: $responses responses, $malformed malformed or with warnings"
[ "$responses" -ge 4 ] || fail "tshark saw only $responses NTP responses"
[ "$malformed" -eq 0 ] || { tshark "${decode[@]}" -Y _ws.malformed -V | head -40; fail "malformed responses"; }
tshark "${decode[@]}" -Y 'ntp.flags.mode == 4' -T fields -e ntp.stratum -e ntp.flags.li 2>/dev/null |
	sort -u | while read -r stratum li; do
	[ "$stratum" = 3 ] && [ "$li" = 0 ] || fail "a response had stratum $stratum leap $li"
done

for port in 123 11123; do
	stop_pid "$(cat "$work/stratad$port.pid")" || fail "stratad on port $port did not exit cleanly"
done
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_clients: ok"
