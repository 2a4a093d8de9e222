#!/usr/bin/env bash
# Installs everything strata needs to build and test, from Debian 12 packages only.
# Idempotent and non-interactive: packages already present are left alone.
set -euo pipefail

packages=(
	# toolchain
	build-essential g++ clang cmake ninja-build pkg-config
	# libraries
	libexpected-dev libfmt-dev nlohmann-json3-dev
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libgpiod-dev
	libmicrohttpd-dev libsystemd-dev nettle-dev
	# least privilege: the switch to the daemon's user, the -F filter
	libcap-dev libseccomp-dev
	# tests and benchmarks
	libgtest-dev libgmock-dev libbenchmark-dev
	# integration tests: namespaces and real peers
	util-linux iproute2 python3 chrony ntpsec-ntpdig sntp ntpsec-ntpdate tshark gpsd
	# privileges.sh: the system calls stratad makes, against the unit's filter
	strace
	# metrics endpoint checks
	curl prometheus
	# manual pages from docs/; the Debian packages' check
	pandoc lintian
)

. "$(dirname "$0")/lib/packages.sh"
mapfile -t missing < <(missing_packages "${packages[@]}")
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages already installed"
	exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
