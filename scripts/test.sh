#!/usr/bin/env bash
# Runs every test of strata, as CI does: installs the dependencies, then
# builds and tests (1) the optimised build with -Werror (release-tests: the
# flags of the README's first command, g++ -O3, which warns differently from
# -O0; with the tests), (2) the AddressSanitizer + UndefinedBehaviorSanitizer
# build (at -O1 -g1, as ASan recommends and faster to build, assertions on;
# its test preset leaves out the three longest integration tests, which run
# in (1): stratad's client paths still run under ASan in control_chronyc and
# the unit tests), (3) a clang build of only the libFuzzer targets (the fuzz
# preset builds the strata_fuzzers target and runs the tests labelled fuzz),
# each fuzz target also run for STRATA_FUZZ_SECONDS (default 5). The Debug
# build (`default` preset) is the developers' and is not rebuilt here: one
# full build less keeps CI inside its 40 minutes on two cores. Then (4) the
# arm64 and armhf cross builds (scripts/setup-cross.sh installs Debian's
# cross compilers, qemu-user-static and the :arm64/:armhf libraries), each
# with its unit and simulation tests run under qemu-user: their workflow
# presets, one CTest test per test binary (STRATA_TESTS_PER_BINARY).
# Integration tests run their daemons inside `unshare -Urn` with clock
# control off; nothing here can change this machine's clock. Every
# integration test that starts stratad runs a second time with -F 1 (the
# seccomp allow-list Debian's /etc/default/chrony asks for; label seccomp,
# integration.seccomp.*) in release-tests only: the sanitizers of the asan
# build make system calls of their own (and start llvm-symbolizer to
# report), which the allow-list rightly refuses, so tests/integration does
# not register the pass there.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

jobs=$(nproc)
run_preset() {
	local preset=$1
	echo "=== $preset: configure, build, test"
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j "$jobs"
	ctest --preset "$preset" -j "$jobs"
}

run_preset release-tests
run_preset asan
if command -v clang++ >/dev/null; then
	run_preset fuzz
	seconds=${STRATA_FUZZ_SECONDS:-5}
	for fuzzer in build/fuzz/tests/*/*_fuzz build/fuzz/tests/*/*/*_fuzz; do
		[ -x "$fuzzer" ] || continue
		name=$(basename "$fuzzer")
		corpus=tests/fuzz/corpus/${name%_fuzz}
		# control_cmdmon_fuzz's seeds are in corpus/cmdmon, refclock_shm_fuzz's in corpus/shm.
		[ -d "$corpus" ] || corpus=tests/fuzz/corpus/$(echo "${name%_fuzz}" | cut -d_ -f2-)
		work=$(mktemp -d)
		cp -r "$corpus"/. "$work"/ 2>/dev/null || true
		echo "=== fuzz $name for ${seconds}s"
		# Crash, timeout and slow-input files go next to the log, not into the tree.
		"$fuzzer" -max_total_time="$seconds" -print_final_stats=0 -artifact_prefix="$work.artifact-" \
			"$work" >"$work.log" 2>&1 || {
			tail -n 40 "$work.log"
			ls "$work".artifact-* 2>/dev/null
			echo "fuzz $name failed" >&2
			exit 1
		}
		rm -rf "$work" "$work.log" "$work".artifact-*
	done
else
	echo "clang++ not found: skipping the fuzz build" >&2
fi
# The cross builds, as a user runs them: `cmake --workflow --preset arm64`
# (configure, build, the tests labelled unit, sim and cross under qemu-user).
# A workflow's test step takes its parallelism from CTEST_PARALLEL_LEVEL.
./scripts/setup-cross.sh
for arch in arm64 armhf; do
	echo "=== $arch: cross build, unit and simulation tests under qemu-user"
	CTEST_PARALLEL_LEVEL=$jobs cmake --workflow --preset "$arch"
done
# The amd64 Debian package (the packages preset, for this architecture only:
# a Release build of stratad and stratactl with Debian's hardening flags),
# lintian, then dpkg -i, stratad -p on the shipped configuration, remove and
# purge in a throwaway overlay copy of this machine, where no daemon can
# start; nothing may be left behind (packaging/check-deb.sh).
echo "=== packages: the amd64 .deb, lintian, install and purge"
cmake --preset packages -DSTRATA_PACKAGE_ARCHES=amd64 >/dev/null
cmake --build --preset packages
status=0
packaging/check-deb.sh build/packages/strata_*_amd64.deb || status=$?
if [ "$status" -eq 77 ]; then
	echo "not root: the package's installation check was skipped" >&2
elif [ "$status" -ne 0 ]; then
	exit "$status"
fi
echo "=== all test builds passed"
