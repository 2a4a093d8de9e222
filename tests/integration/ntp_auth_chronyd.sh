#!/usr/bin/env bash
# Symmetric-key authentication between stratad and chronyd 4.3, both ways,
# with an MD5, a SHA256 and an AES128 key (chrony's keyfile format):
#   - stratad polls a chronyd server with `key N` and selects it;
#   - chronyd -Q polls a stratad server with `key N` and measures;
#   - a wrong secret for the key, each way: never selected (stratactl and
#     chronyc sources show `^?`), and stratad's server answers with
#     crypto-NAKs, seen by tshark, by chronyc ntpdata (received, none valid),
#     by stratad's client log ("crypto-NAK received") and counted in
#     serverstats;
#   - an independent client (python3 hashlib) gets an MD5-signed reply whose
#     MAC it checks, a crypto-NAK for a bad MAC or an unknown key, and no
#     reply to a crypto-NAK;
#   - stratactl keygen's keys, written to the keyfiles, loaded by `rekey`
#     (a broken keyfile keeps the keys in use) and by SIGHUP, and used;
#   - `key N` missing from the keyfile (or no keyfile): a warning from
#     stratad -p and at start, nothing sent until rekey brings the key.
#   ntp_auth_chronyd.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
stratad=$build/daemon/stratad
stratactl=$build/tools/stratactl
chronyc_socket_dir

# wait_for SECONDS CMD...: until CMD succeeds, polling every 50 ms.
wait_for() {
	local tries=$(($1 * 20))
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
# not_selected OUTPUT: chronyc/stratactl `sources -n` shows 127.0.0.1 and
# not as the selected source.
not_selected() {
	echo "$1" | grep -q '^\^. 127\.0\.0\.1 ' && ! echo "$1" | grep -q '^\^\* 127\.0\.0\.1 '
}

cat >"$work/keys" <<'KEYS'
# the same keys on both sides
1 MD5 HEX:6B5D3C6A2E4A74775E4F6F3B7A35453E
2 SHA256 HEX:0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0
3 AES128 HEX:2B7E151628AED2A6ABF7158809CF4F3C
KEYS
cat >"$work/wrong.keys" <<'KEYS'
1 MD5 HEX:00000000000000000000000000000000
KEYS

# chronyd as the server, with the keys.
cat >"$work/chronyd.conf" <<CONF
local stratum 1
allow 127.0.0.0/8
port 11180
cmdport 0
keyfile $work/keys
pidfile $work/chronyd.pid
CONF
chronyd -x -d -u root -f "$work/chronyd.conf" >"$work/chronyd.log" 2>&1 &
chronyd_pid=$!
STARTED_PIDS+=("$chronyd_pid")
wait_udp_port 11180 "$chronyd_pid"

# wait_selected LOG PID: until stratad logs its selection (10 s at most).
wait_selected() {
	local log=$1 pid=$2
	for _ in $(seq 200); do
		grep -q "Selected source 127.0.0.1" "$log" && return 0
		kill -0 "$pid" 2>/dev/null || fail "stratad exited: $(cat "$log")"
		sleep 0.05
	done
	return 1
}

for key in 1 2 3; do
	printf 'server 127.0.0.1 port 11180 key %s iburst minpoll 0 maxpoll 1\nkeyfile %s/keys\nport 0\npidfile %s/s%s.pid\n' \
		"$key" "$work" "$work" "$key" >"$work/client$key.conf"
	"$stratad" -x -d -f "$work/client$key.conf" >"$work/client$key.log" 2>&1 &
	pid=$!
	STARTED_PIDS+=("$pid")
	wait_selected "$work/client$key.log" "$pid" || fail "key $key: chronyd not selected: $(cat "$work/client$key.log")"
	grep -q "authentication failed" "$work/client$key.log" && fail "key $key: $(cat "$work/client$key.log")"
	stop_pid "$pid" || fail "stratad (key $key) did not exit cleanly"
	STARTED_PIDS=("$chronyd_pid")
	echo "stratad -> chronyd with key $key ($(sed -n "s/^$key \([A-Z0-9]*\) .*/\1/p" "$work/keys")): selected"
done

# stratad_wrong_key NAME PORT: a stratad client of 127.0.0.1:PORT with the
# wrong secret for key 1, for 6 s; fails if it selects anything. Leaves
# stratactl's sources in $out and its ntpdata of 127.0.0.1 in $ntpdata, the
# log in $work/NAME.log.
stratad_wrong_key() {
	local name=$1 port=$2 pid saved=("${STARTED_PIDS[@]}")
	mkdir -m 0700 "$work/${name}cmd"
	printf 'server 127.0.0.1 port %s key 1 iburst minpoll 0 maxpoll 0\nkeyfile %s/wrong.keys\nport 0\npidfile %s/%s.pid\nbindcmdaddress %s/%scmd/stratad.sock\ncmdport 0\n' \
		"$port" "$work" "$work" "$name" "$work" "$name" >"$work/$name.conf"
	"$stratad" -x -d -f "$work/$name.conf" >"$work/$name.log" 2>&1 &
	pid=$!
	STARTED_PIDS+=("$pid")
	sleep 6
	out=$("$stratactl" -h "$work/${name}cmd/stratad.sock" -n sources) || fail "stratactl sources: $out"
	not_selected "$out" || fail "stratactl sources with a wrong key: $out"
	ntpdata=$("$stratactl" -h "$work/${name}cmd/stratad.sock" -n ntpdata 127.0.0.1)
	stop_pid "$pid" || fail "stratad ($name, wrong key) did not exit cleanly"
	STARTED_PIDS=("${saved[@]}")
	grep -q "Selected source" "$work/$name.log" && fail "selected with a wrong key: $(cat "$work/$name.log")"
	return 0
}

# A wrong secret: chronyd drops the requests (it sends no crypto-NAK), so
# nothing is ever selected.
stratad_wrong_key wrong 11180
echo "stratad -> chronyd with a wrong key 1: never selected ($(echo "$out" | grep 127.0.0.1 | cut -c1-2))"

# stratad as the server, with the keys; chronyd -Q as its client.
cp "$work/keys" "$work/server.keys"
mkdir -m 0700 "$work/scmd"
printf 'local stratum 2\nallow 127.0.0.0/8\nport 11181\nkeyfile %s/server.keys\npidfile %s/server.pid\nbindcmdaddress %s/scmd/stratad.sock\ncmdport 0\n' \
	"$work" "$work" "$work" >"$work/server.conf"
sctl=("$stratactl" -h "$work/scmd/stratad.sock")
tshark -q -i lo -f 'udp port 11181' -w "$work/server.pcap" >/dev/null 2>&1 &
tshark_pid=$!
STARTED_PIDS+=("$tshark_pid")
sleep 1.5  # tshark starts capturing asynchronously
"$stratad" -x -d -f "$work/server.conf" >"$work/server.log" 2>&1 &
server_pid=$!
STARTED_PIDS+=("$server_pid")
wait_udp_port 11181 "$server_pid"
for key in 1 2 3; do
	out=$(timeout 20 chronyd -Q -u root -t 8 "keyfile $work/keys" "server 127.0.0.1 port 11181 key $key iburst" 2>&1) ||
		fail "chronyd -Q (key $key) exited $?: $out"
	echo "$out" | grep -E "System clock wrong by -?[0-9]+\.[0-9]+ seconds" ||
		fail "chronyd -Q with key $key measured nothing: $out"
done
out=$(timeout 20 chronyd -Q -u root -t 4 "keyfile $work/wrong.keys" "server 127.0.0.1 port 11181 key 1 iburst" 2>&1) || true
echo "$out" | grep -q "System clock wrong" && fail "chronyd -Q with a wrong key measured: $out"
echo "chronyd -> stratad with a wrong key 1: nothing measured"

# A chronyd client with the wrong key, for a while: stratad answers its
# requests with crypto-NAKs, which chronyd receives and never uses.
mkdir -m 0700 "$work/ccmd"
printf 'server 127.0.0.1 port 11181 key 1 iburst minpoll 0 maxpoll 0\nkeyfile %s/wrong.keys\nport 0\ncmdport 0\nbindcmdaddress %s/ccmd/chronyd.sock\npidfile %s/cc.pid\n' \
	"$work" "$work" "$work" >"$work/cc.conf"
chronyd -x -d -u root -f "$work/cc.conf" >"$work/cc.log" 2>&1 &
cc_pid=$!
STARTED_PIDS+=("$cc_pid")
sleep 6
out=$(chronyc -n -h "$work/ccmd/chronyd.sock" sources) || fail "chronyc sources: $out"
not_selected "$out" || fail "chronyc sources with a wrong key: $out"
ntpdata=$(chronyc -n -h "$work/ccmd/chronyd.sock" ntpdata 127.0.0.1) || fail "chronyc ntpdata: $ntpdata"
rx=$(echo "$ntpdata" | sed -n 's/^Total RX *: //p')
valid=$(echo "$ntpdata" | sed -n 's/^Total valid RX *: //p')
[ "$rx" -ge 3 ] && [ "$valid" = 0 ] || fail "chronyd's ntpdata with a wrong key (RX $rx, valid $valid): $ntpdata"
stop_pid "$cc_pid" || true
STARTED_PIDS=("$chronyd_pid" "$server_pid" "$tshark_pid")
echo "chronyd -> stratad with a wrong key 1: never selected ($(echo "$out" | grep 127.0.0.1 | cut -c1-2)), $rx crypto-NAKs received, none valid"

# stratad as the client with the wrong key: the crypto-NAKs are logged,
# nothing is selected.
stratad_wrong_key nak 11181
grep -q "Source 127.0.0.1: crypto-NAK received" "$work/nak.log" || fail "no crypto-NAK logged: $(cat "$work/nak.log")"
echo "$ntpdata" | grep -q "^Total valid RX *: 0$" || fail "stratad's ntpdata with a wrong key: $ntpdata"
echo "stratad -> stratad with a wrong key 1: crypto-NAK logged, never selected"

# An independent client: MD5 MACs computed here, the reply's MAC checked.
python3 - <<'PY' || fail "python3 client: see above"
import hashlib, socket, struct
key = bytes.fromhex("6B5D3C6A2E4A74775E4F6F3B7A35453E")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
def request(key_id, mac_key):
    req = bytearray(48)
    req[0] = (4 << 3) | 3
    req[40:48] = struct.pack(">II", 0x12345678, 0x9abcdef0)
    return bytes(req) + struct.pack(">I", key_id) + hashlib.md5(mac_key + bytes(req)).digest()
def ask(data):
    s.sendto(data, ("127.0.0.1", 11181))
    try:
        return s.recvfrom(2048)[0]
    except socket.timeout:
        return None
r = ask(request(1, key))
assert r is not None and len(r) == 68, r
assert r[24:32] == struct.pack(">II", 0x12345678, 0x9abcdef0), "origin"
assert struct.unpack(">I", r[48:52])[0] == 1, "key id"
assert r[52:68] == hashlib.md5(key + r[:48]).digest(), "reply MAC"
print("python3: signed request answered with a valid MD5 MAC of key 1")
def is_nak(r):
    return (r is not None and len(r) == 52 and r[48:52] == bytes(4)
            and r[24:32] == struct.pack(">II", 0x12345678, 0x9abcdef0) and r[0] & 7 == 4)
bad = bytearray(request(1, key)); bad[60] ^= 1
assert is_nak(ask(bytes(bad))), "no crypto-NAK for a bad MAC"
assert is_nak(ask(request(9, key))), "no crypto-NAK for an unknown key"
nak = bytearray(request(1, key)[:48]) + bytes(4)
assert ask(bytes(nak)) is None, "reply to a crypto-NAK"
print("python3: bad MAC, unknown key: a crypto-NAK (52 bytes, key id 0, our origin); a crypto-NAK: no reply")
# 1152 bytes (header, a 1084-byte extension field, key id and MAC) are a
# valid request; the same with 100 more bytes is not, and must not be read
# cut at the server's buffer as if it were.
head = bytearray(48)
head[0] = (4 << 3) | 3
head[40:48] = struct.pack(">II", 0x12345678, 0x9abcdef0)
ef = struct.pack(">HH", 0x1234, 1084) + bytes(1080)
body = bytes(head) + ef
whole = body + struct.pack(">I", 1) + hashlib.md5(key + body).digest()
assert len(whole) == 1152
r = ask(whole)
assert r is not None and len(r) == 68, r
assert ask(whole + bytes(100)) is None, "a datagram longer than the buffer was answered"
print("python3: a 1152-byte signed request answered; with 100 more bytes, dropped (not read cut)")
PY

# The refusals count as dropped in serverstats (chronyc has no line of
# their own); tshark saw the crypto-NAKs go out: 52 bytes, key id 0.
stats=$(chronyc -h "$work/scmd/stratad.sock" serverstats) || fail "chronyc serverstats: $stats"
dropped=$(echo "$stats" | sed -n 's/^NTP packets dropped *: //p')
[ "$dropped" -ge 5 ] || fail "serverstats after crypto-NAKs: $stats"
kill -INT "$tshark_pid"
wait "$tshark_pid" || true
STARTED_PIDS=("$chronyd_pid" "$server_pid")
decode=(-r "$work/server.pcap" -d udp.port==11181,ntp)
naks=$(tshark "${decode[@]}" -Y 'udp.srcport == 11181 && udp.length == 60' -T fields -e ntp.keyid 2>/dev/null)
count=$(echo "$naks" | grep -c . || true)
[ "$count" -ge 5 ] || fail "tshark saw $count crypto-NAKs from stratad"
[ "$(echo "$naks" | sort -u)" = 00000000 ] || fail "crypto-NAKs with a key id other than 0: $(echo "$naks" | sort -u)"
signed=$(tshark "${decode[@]}" -Y 'udp.srcport == 11181 && udp.length > 60' 2>/dev/null | wc -l)
echo "tshark: $count crypto-NAKs (key id 0) and $signed signed replies from stratad; serverstats: $dropped dropped"

# Keys from stratactl keygen: written to chronyd's keyfile and, after a
# first try that gets crypto-NAKs, to stratad's, which rekey loads.
: >"$work/new.keys"
"$stratactl" keygen 9 AES128 >>"$work/new.keys" || fail "stratactl keygen 9 AES128"
"$stratactl" keygen 10 SHA256 256 >>"$work/new.keys" || fail "stratactl keygen 10 SHA256 256"
"$stratactl" keygen 12 SHA512 >>"$work/new.keys" || fail "stratactl keygen 12 SHA512"
grep -Eq '^9 AES128 HEX:[0-9A-F]{32}$' "$work/new.keys" && grep -Eq '^10 SHA256 HEX:[0-9A-F]{64}$' "$work/new.keys" ||
	fail "keygen printed: $(cat "$work/new.keys")"
measure() { # measure KEY TIMEOUT: chronyd -Q with keyfile new.keys against stratad
	timeout 20 chronyd -Q -u root -t "$2" "keyfile $work/new.keys" "server 127.0.0.1 port 11181 key $1 iburst" 2>&1 |
		grep -E "System clock wrong by -?[0-9]+\.[0-9]+ seconds"
}
measure 9 3 && fail "chronyd -Q measured with key 9 before stratad had it"
grep -v '^12 ' "$work/new.keys" >>"$work/server.keys"
out=$("${sctl[@]}" rekey) || fail "rekey: $out"
[ "$out" = "200 OK" ] || fail "rekey printed: $out"
grep -q "Loaded 5 symmetric keys from $work/server.keys" "$work/server.log" || fail "no rekey log line: $(cat "$work/server.log")"
measure 9 8 >/dev/null || fail "chronyd -Q with keygen's key 9 after rekey measured nothing"
measure 10 8 >/dev/null || fail "chronyd -Q with keygen's key 10 after rekey measured nothing"
echo "stratactl keygen: keys 9 (AES128) and 10 (SHA256, 256 bits) loaded by rekey and used by chronyd"
# A broken keyfile: rekey fails, the keys in use stay.
cp "$work/server.keys" "$work/server.keys.good"
echo "11 FOO HEX:00112233445566778899" >>"$work/server.keys"
status=0
out=$("${sctl[@]}" rekey) || status=$?
[ "$status" != 0 ] && [ "$out" = "500 Failure" ] || fail "rekey of a broken keyfile: exit $status, $out"
grep -q "server.keys:7: key 11: unknown type 'FOO'" "$work/server.log" &&
	grep -q "not reloaded: the keys loaded before stay in use" "$work/server.log" ||
	fail "no log lines for the broken keyfile: $(cat "$work/server.log")"
measure 9 8 >/dev/null || fail "key 9 was lost by a failed rekey"
echo "rekey of a broken keyfile: 500 Failure, logged at its line, key 9 still in use"
# SIGHUP reloads it too: key 12 comes.
cp "$work/server.keys.good" "$work/server.keys"
grep '^12 ' "$work/new.keys" >>"$work/server.keys"
kill -HUP "$server_pid"
wait_for 5 grep -q "Loaded 6 symmetric keys" "$work/server.log" || fail "SIGHUP did not reload the keyfile"
measure 12 8 >/dev/null || fail "chronyd -Q with key 12 after SIGHUP measured nothing"
echo "SIGHUP: keyfile reloaded, keygen's key 12 (SHA512) used by chronyd"

stop_pid "$server_pid" || fail "stratad (server) did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")

# A key the keyfile lacks, or no keyfile: a warning at its line from -p
# and at start; the source sends nothing (chronyd counts no request from
# it) until rekey loads a keyfile with the key, then it is selected.
cp "$work/keys" "$work/client.keys"
mkdir -m 0700 "$work/mcmd"
printf 'server 127.0.0.1 port 11180 key 3 iburst minpoll 0 maxpoll 1\nkeyfile %s/client.keys\nport 0\npidfile %s/m.pid\nbindcmdaddress %s/mcmd/stratad.sock\ncmdport 0\n' \
	"$work" "$work" "$work" >"$work/missing.conf"
sed -i '/^3 /d' "$work/client.keys"
out=$("$stratad" -p -f "$work/missing.conf" 2>&1) || fail "stratad -p refused a missing key: $out"
echo "$out" | grep -q "missing.conf:1: warning: Source 127.0.0.1: key 3 is not in the keyfile; the source sends nothing" ||
	fail "stratad -p printed: $out"
printf 'server 127.0.0.1 port 11180 key 1\nport 0\npidfile %s/n.pid\n' "$work" >"$work/nokeyfile.conf"
out=$("$stratad" -p -f "$work/nokeyfile.conf" 2>&1) || fail "stratad -p refused a key with no keyfile: $out"
echo "$out" | grep -q "nokeyfile.conf:1: warning: Source 127.0.0.1: key 1 given but no keyfile configured" ||
	fail "stratad -p printed: $out"
"$stratad" -x -d -f "$work/missing.conf" >"$work/missing.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_for 5 grep -q "Source 127.0.0.1: key 3 is not in the keyfile; no request sent until rekey loads it" "$work/missing.log" ||
	fail "no missing-key line: $(cat "$work/missing.log")"
sleep 2
ntpdata=$("$stratactl" -h "$work/mcmd/stratad.sock" -n ntpdata 127.0.0.1)
echo "$ntpdata" | grep -q "^Total TX *: 0$" || fail "requests sent with the key missing: $ntpdata"
grep '^3 ' "$work/keys" >>"$work/client.keys"
out=$("$stratactl" -h "$work/mcmd/stratad.sock" rekey) || fail "rekey: $out"
grep -q "Source 127.0.0.1: key 3 loaded; requests resume" "$work/missing.log" || fail "key 3 not taken: $(cat "$work/missing.log")"
wait_selected "$work/missing.log" "$pid" || fail "not selected after rekey: $(cat "$work/missing.log")"
stop_pid "$pid" || fail "stratad (missing key) did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")
echo "missing key and missing keyfile: warned at their line; nothing sent until rekey loaded key 3, then selected"

stop_pid "$chronyd_pid" || true
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_auth_chronyd: ok"
