#!/usr/bin/env bash
# What a large client log costs stratad in resident memory: idle, after one
# `clients` report with no clients, after 2,000 clients, and after a report
# of them. Prints one line per step (VmRSS in KiB, and the growth).
#
#   tests/integration/in_netns.sh tools/bench/clientlog_rss.sh BUILD_DIR [LIMIT]
#
# BUILD_DIR holds daemon/stratad, tools/stratactl and tools/ntpload (a
# release build); LIMIT is the clientloglimit (default 67108864). Run it
# inside in_netns.sh: the daemon runs with -x on a private loopback.
set -euo pipefail
build=$(realpath "$1")
limit=${2:-67108864}
here=$(dirname "$(realpath "$0")")
. "$here/../../tests/integration/lib.sh"
require_private_netns

work=$(mktemp -d)
trap 'cleanup_started; rm -rf "$work"' EXIT
cat >"$work/strata.conf" <<EOF
local stratum 3
allow 127.0.0.0/8
port 11123
cmdport 0
bindcmdaddress $work/stratad.sock
pidfile $work/stratad.pid
clientloglimit $limit
EOF
"$build/daemon/stratad" -d -x -f "$work/strata.conf" >"$work/stratad.log" 2>&1 &
pid=$!
STARTED_PIDS+=("$pid")
wait_udp_port 11123 "$pid"
sleep 1

rss() { awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status; }
clients_report() { "$build/tools/stratactl" -h "$work/stratad.sock" clients >"$work/clients.txt"; }
idle=$(rss)
echo "clientloglimit $limit"
echo "idle:                          $idle KiB"
clients_report
r0=$(rss)
echo "after clients (0 clients):     $r0 KiB (+$((r0 - idle)))"
"$build/tools/ntpload" --port 11123 --clients 2000 --rate 4000 --duration 1 >"$work/load.txt"
r1=$(rss)
echo "after 2,000 clients:           $r1 KiB (+$((r1 - idle)))"
clients_report
rows=$(grep -c '^127\.' "$work/clients.txt" || true)
r2=$(rss)
echo "after clients ($rows clients):  $r2 KiB (+$((r2 - idle)), +$((r2 - r1)) for the report)"
