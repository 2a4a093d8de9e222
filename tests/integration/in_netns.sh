#!/usr/bin/env bash
# Runs a command inside a new user + network + PID namespace with the
# loopback up. In there, every clock adjustment fails with EPERM and the only
# reachable network is the private loopback, so a daemon under test can never
# change this machine's clock or reach any other host; and when the command
# ends, the kernel ends every process still left in the PID namespace, so a
# test that forgets a daemon cannot leave it running.
#
#   tests/integration/in_netns.sh COMMAND [ARG...]
#
# Set STRATA_NETNS_IPC=1 to add an IPC namespace (SysV shared memory of SHM
# refclocks stays private).
set -euo pipefail
if [ $# -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi
flags=(-U -r -n --pid --fork --mount-proc)
if [ "${STRATA_NETNS_IPC:-0}" = 1 ]; then
	flags+=(-i)
fi
# The premise of every test run here: this kernel lets an unprivileged
# process make user, network and PID namespaces (some distributions turn
# unprivileged user namespaces off). Without them no daemon may run, so the
# test is skipped (exit 77, ctest's SKIP_RETURN_CODE) and says why.
if ! premise=$(unshare "${flags[@]}" -- true 2>&1); then
	echo "SKIP: premise false: cannot make a user+network+PID namespace here (unshare ${flags[*]}: $premise)" >&2
	exit 77
fi
# /run is a private tmpfs: daemons' sockets (stratad's command socket,
# chronyc's) never land in the machine's /run.
# STRATA_PRIVATE_MOUNTS=1 tells lib.sh that mounts made here stay here.
exec unshare "${flags[@]}" -- bash -c 'ip link set lo up && mount -t tmpfs -o mode=0755 tmpfs /run &&
	export STRATA_PRIVATE_MOUNTS=1 && exec "$@"' in_netns "$@"
