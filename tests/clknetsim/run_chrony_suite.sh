#!/usr/bin/env bash
# Runs chrony's own simulation suite (test/simulation of a chrony source
# tree, e.g. its 4.3 release) under clknetsim with stratad installed as the
# `chronyd` of every node, as chrony's test/simulation/run does for chronyd.
# Neither clknetsim nor chrony is part of strata: give the paths of a
# clknetsim build (with clknetsim and clknetsim.so built) and of a chrony
# tree; nothing of theirs is copied into this project. The suite is copied
# into a scratch directory, where its one exit check also accepts
# "stratad exiting".
#
#   tests/clknetsim/run_chrony_suite.sh [-d STRATAD] [-S SERVER_DAEMON] [-c CHRONYC] [-s SEED] [-k] \
#       CLKNETSIM_DIR CHRONY_DIR [TEST...]
#
# -d: the daemon to run as chronyd (default build/release/daemon/stratad);
#     give a chronyd to run the suite against chronyd itself, side by side.
# -S: another daemon for the server nodes (those whose configuration has no
#     `deny` line), e.g. /usr/sbin/chronyd to try stratad as a client of
#     chronyd servers; a small static program picks the daemon per node (a
#     static binary, so that it does not take the node's simulator
#     connection itself). The acceptance runs use -d alone.
# -c: the chronyc the tests run (default: Debian's, /usr/bin/chronyc).
# -s: clknetsim's random seed (default 1, so runs are repeatable).
# -k: keep the scratch directory (its tmp/ holds each node's log).
# TEST: test names or numbers (001, 101-poll); default: every test.
#
# Prints one line per test (PASS, FAIL or SKIP) and a summary; exits 1 when
# any test failed. Every node runs in clknetsim's simulated time and
# network, inside tests/integration/in_netns.sh (a user and network
# namespace) as well, so that nothing could reach this machine's clock or
# network even if a call escaped the simulator.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
root=$(realpath "$here/../..")
daemon=$root/build/release/daemon/stratad
chronyc=/usr/bin/chronyc
server_daemon=
seed=1
keep=0
while getopts ":d:S:c:s:k" opt; do
	case $opt in
	d) daemon=$(realpath "$OPTARG") ;;
	S) server_daemon=$(realpath "$OPTARG") ;;
	c) chronyc=$(realpath "$OPTARG") ;;
	s) seed=$OPTARG ;;
	k) keep=1 ;;
	*) sed -n '2,25p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
	sed -n '2,25p' "$0" >&2
	exit 2
fi
clknetsim=$(realpath "$1")
chrony=$(realpath "$2")
shift 2
[ -x "$clknetsim/clknetsim" ] && [ -f "$clknetsim/clknetsim.so" ] ||
	{ echo "no clknetsim build in $clknetsim (run make there)" >&2; exit 2; }
[ -f "$chrony/test/simulation/test.common" ] ||
	{ echo "no test/simulation in $chrony" >&2; exit 2; }
[ -x "$daemon" ] || { echo "no daemon at $daemon" >&2; exit 2; }

if [ "${STRATA_SUITE_INNER:-}" != 1 ]; then
	STRATA_SUITE_INNER=1 exec "$root/tests/integration/in_netns.sh" "$0" -d "$daemon" -c "$chronyc" -s "$seed" \
		${server_daemon:+-S "$server_daemon"} $([ $keep = 1 ] && echo -k) "$clknetsim" "$chrony" "$@"
fi

work=$(mktemp -d /tmp/strata-chrony-suite.XXXXXX)
[ $keep = 1 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/test"
cp -r "$chrony/test/simulation" "$work/test/"
# The suite runs `chronyd` and `chronyc` from the tree's root (../../).
if [ -n "$server_daemon" ]; then
	cat >"$work/pick.c" <<EOF2
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/* Runs the server daemon for a node whose configuration (-f FILE) has no
   "deny" line, the client daemon otherwise. */
int main(int argc, char **argv)
{
	const char *daemon = "$server_daemon";
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-f") != 0)
			continue;
		FILE *f = fopen(argv[i + 1], "r");
		char line[4096];
		while (f && fgets(line, sizeof(line), f))
			if (strcmp(line, "deny\\n") == 0)
				daemon = "$daemon";
		if (f)
			fclose(f);
	}
	argv[0] = (char *)daemon;
	execv(daemon, argv);
	perror(daemon);
	return 1;
}
EOF2
	gcc -static -O2 -o "$work/chronyd" "$work/pick.c" || { echo "could not build the static picker" >&2; exit 2; }
else
	ln -s "$daemon" "$work/chronyd"
fi
ln -s "$chronyc" "$work/chronyc"
# What the suite asks of config.h: the features the daemon has. stratad
# says which with -v (chronyd's "+NTP +CMDMON …" list); NTP_ERA_SPLIT is
# the first second of the NTP era window the daemon reads timestamps in.
features=$("$daemon" -v | grep -o '[+][A-Z0-9_]*' | tr -d '+' || true)
{
	for f in $features; do
		case $f in
		ASYNCDNS | CMDMON | NTP | REFCLOCK | RTC | PPS | PHC | PRIVDROP | SCFILTER | SIGND | NTS | SECHASH | IPV6 | DEBUG)
			echo "#define FEAT_$f 1" ;;
		CMAC) echo "#define HAVE_CMAC 1" ;;
		esac
	done
	echo "#define HAVE_LONG_TIME_T 1"
	echo "#define HAVE_LINUX_TIMESTAMPING 1"
	split=$("$daemon" -v | sed -n 's/.*NTP era split \([0-9-]*\).*/\1/p')
	[ -n "$split" ] && echo "#define NTP_ERA_SPLIT (${split}LL - 0 * 24 * 3600)"
} >"$work/config.h"
sed -i "s/grep -q 'chronyd exiting'/grep -q -E '(chronyd|stratad) exiting'/" "$work/test/simulation/test.common"
grep -q "(chronyd|stratad) exiting" "$work/test/simulation/test.common" ||
	{ echo "test.common's exit check not found: another chrony version?" >&2; exit 2; }

cd "$work/test/simulation"
mkdir -p tmp
export CLKNETSIM_PATH=$clknetsim
tests=()
if [ $# -eq 0 ]; then
	tests=([0-9]*-*[^_])
else
	for t in "$@"; do
		match=$(ls -d "$t"* 2>/dev/null | grep -v '_$' | head -n 1 || true)
		[ -n "$match" ] || { echo "no test $t" >&2; exit 2; }
		tests+=("$match")
	done
fi
passed=() failed=() skipped=()
for t in "${tests[@]}"; do
	start=$(date +%s)
	status=0
	CLKNETSIM_RANDOM_SEED=$seed "./$t" >"$work/$t.out" 2>&1 || status=$?
	took=$(($(date +%s) - start))
	case $status in
	0) verdict=PASS; passed+=("$t") ;;
	9) verdict=SKIP; skipped+=("$t") ;;
	*) verdict=FAIL; failed+=("$t") ;;
	esac
	printf '%-24s %s  (%d s)\n' "$t" "$verdict" "$took"
	if [ "$verdict" = FAIL ]; then
		grep -E 'BAD|ERROR|FAIL' "$work/$t.out" | head -n 5 | sed 's/^/    /'
		if [ $keep = 1 ]; then
			mkdir -p "$work/logs/$t" && cp -r tmp/. "$work/logs/$t/" 2>/dev/null || true
		fi
	fi
done
echo "passed ${#passed[@]}, failed ${#failed[@]}${failed:+ (${failed[*]})}, skipped ${#skipped[@]}${skipped:+ (${skipped[*]})}"
[ $keep = 1 ] && echo "scratch directory: $work"
[ ${#failed[@]} -eq 0 ]
