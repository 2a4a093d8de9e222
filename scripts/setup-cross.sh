#!/usr/bin/env bash
# Installs what the arm64 and armhf cross builds need (the `arm64` and `armhf`
# CMake presets, cmake/toolchains/), from Debian 12 packages only: Debian's
# cross compilers, qemu-user to run the tests, `file` to check the binaries,
# and the :arm64/:armhf development packages of every library strata links,
# installed beside the build machine's through multiarch.
#
# Installing a library for another architecture never removes a package of
# this one: apt is asked first (-s, a simulation) and the script stops if it
# would remove anything. Multi-Arch: same packages must have one version on
# every architecture, so apt may upgrade an amd64 library to the version of
# its :arm64/:armhf twin; that is an upgrade within Debian 12, not a removal.
# Idempotent and non-interactive. Run scripts/setup.sh first (the native tools).
set -euo pipefail

arches=(arm64 armhf)
tools=(crossbuild-essential-arm64 crossbuild-essential-armhf qemu-user-static file pkg-config)
# What the test binaries run on under qemu: the multiarch libc (its loader too)
# and C++ runtime, the same packages a Debian arm64/armhf system has.
runtime=(libc6 libstdc++6)
# The libraries of scripts/setup.sh (and of daemon/'s privilege code) that
# have a per-architecture package; the header-only ones (libexpected-dev,
# nlohmann-json3-dev) are Multi-Arch: foreign and serve every architecture.
libraries=(
	libfmt-dev nettle-dev
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libgpiod-dev
	libmicrohttpd-dev libsystemd-dev libcap-dev libseccomp-dev
	libgtest-dev libgmock-dev
)

packages=("${tools[@]}")
for arch in "${arches[@]}"; do
	for lib in "${runtime[@]}" "${libraries[@]}"; do
		packages+=("$lib:$arch")
	done
done

export DEBIAN_FRONTEND=noninteractive

. "$(dirname "$0")/lib/packages.sh"
mapfile -t missing < <(missing_packages "${packages[@]}")
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup-cross: all ${#packages[@]} packages already installed"
	exit 0
fi

foreign=$(dpkg --print-foreign-architectures)
for arch in "${arches[@]}"; do
	if ! grep -qx "$arch" <<<"$foreign"; then
		as_root dpkg --add-architecture "$arch"
	fi
done
as_root apt-get update -qq

plan=$(apt-get install -s --no-install-recommends "${missing[@]}")
if grep -q '^Remv' <<<"$plan"; then
	grep '^Remv' <<<"$plan" >&2
	echo "setup-cross: installing the cross packages would remove the packages above; stopping" >&2
	exit 1
fi
echo "setup-cross: installing ${missing[*]}"
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
