#!/usr/bin/env bash
# Symmetric-key authentication between stratad and chronyd 4.3, both ways,
# with an MD5, a SHA256 and an AES128 key (chrony's keyfile format):
#   - stratad polls a chronyd server with `key N` and selects it;
#   - chronyd -Q polls a stratad server with `key N` and measures;
#   - a wrong secret for the key: never selected, and stratad's server
#     answers nothing (as chronyd 4.3, which sends no crypto-NAK);
#   - an independent client (python3 hashlib) gets an MD5-signed reply whose
#     MAC it checks, and no reply to a bad MAC or an unknown key;
#   - `key N` missing from the keyfile: stratad -p and stratad refuse it.
#   ntp_auth_chronyd.sh BUILD_DIR   (inside tests/integration/in_netns.sh)
set -euo pipefail
build=$(realpath "${1:?build dir}")
. "$(dirname "$0")/lib.sh"
require_private_netns
work=$(mktemp -d)
stratad=$build/daemon/stratad

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

# A wrong secret: chronyd drops the requests, so nothing is ever selected.
printf 'server 127.0.0.1 port 11180 key 1 iburst minpoll 0 maxpoll 0\nkeyfile %s/wrong.keys\nport 0\npidfile %s/w.pid\n' \
	"$work" "$work" >"$work/wrong.conf"
"$stratad" -x -d -f "$work/wrong.conf" -t 6 >"$work/wrong.log" 2>&1 || fail "stratad (wrong key) exited $?"
grep -q "Selected source" "$work/wrong.log" && fail "selected with a wrong key: $(cat "$work/wrong.log")"
echo "stratad -> chronyd with a wrong key 1: never selected"

# stratad as the server, with the keys; chronyd -Q as its client.
printf 'local stratum 2\nallow 127.0.0.0/8\nport 11181\nkeyfile %s/keys\npidfile %s/server.pid\n' "$work" "$work" \
	>"$work/server.conf"
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
bad = bytearray(request(1, key)); bad[60] ^= 1
assert ask(bytes(bad)) is None, "reply to a bad MAC"
assert ask(request(9, key)) is None, "reply to an unknown key"
nak = bytearray(request(1, key)[:48]) + bytes(4)
assert ask(bytes(nak)) is None, "reply to a crypto-NAK"
print("python3: bad MAC, unknown key, crypto-NAK: no reply (no crypto-NAK either)")
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
stop_pid "$server_pid" || fail "stratad (server) did not exit cleanly"
STARTED_PIDS=("$chronyd_pid")

# A key the keyfile lacks, or no keyfile: refused by -p and at start.
printf 'server 127.0.0.1 port 11180 key 7\nkeyfile %s/keys\nport 0\npidfile %s/m.pid\n' "$work" "$work" >"$work/missing.conf"
if out=$("$stratad" -p -f "$work/missing.conf" 2>&1); then
	fail "stratad -p accepted a missing key: $out"
fi
echo "$out" | grep -q "missing.conf:1: Source 127.0.0.1: key 7 is not in the keyfile" || fail "stratad -p printed: $out"
if out=$(timeout 10 "$stratad" -x -d -f "$work/missing.conf" 2>&1); then
	fail "stratad started with a missing key: $out"
fi
echo "$out" | grep -q "key 7 is not in the keyfile" || fail "stratad printed: $out"
printf 'server 127.0.0.1 port 11180 key 1\nport 0\npidfile %s/n.pid\n' "$work" >"$work/nokeyfile.conf"
if out=$(timeout 10 "$stratad" -x -d -f "$work/nokeyfile.conf" 2>&1); then
	fail "stratad started with a key and no keyfile: $out"
fi
echo "$out" | grep -q "key 1 given but no keyfile configured" || fail "stratad printed: $out"
echo "missing key and missing keyfile: refused by -p and at start"

stop_pid "$chronyd_pid" || true
STARTED_PIDS=()
rm -rf "$work"
echo "ntp_auth_chronyd: ok"
