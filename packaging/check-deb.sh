#!/usr/bin/env bash
# Checks a strata .deb as a user would meet it: lintian (errors and warnings
# fail), then install, `stratad -p` on the shipped configuration, remove,
# purge, and nothing left behind. The package is installed into a throwaway
# copy of this machine: a private mount, network and PID namespace in which
# / is an overlay whose changes go to a tmpfs, so nothing of it reaches the
# real system, whatever happens. No daemon can start there: /run is an empty
# tmpfs (no systemd to talk to, as on a machine not booted with systemd,
# where the postinst only enables the unit), a policy-rc.d forbids starting
# services (deb-systemd-invoke asks it first), the network namespace has no
# interface up, and the check fails if a stratad process appears in the
# namespace. Other time daemons installed here (chrony, for the integration
# tests) are first shown to block the installation (Conflicts: time-daemon)
# and then removed from the copy.
# "Nothing left behind" is measured on the overlay: every file the
# installation and the purge wrote is in its upper layer, and after the
# purge each must be what it was before (dpkg's own records and logs
# excepted), with the daemon's user and group gone from /etc/passwd,
# /etc/group, /etc/shadow and /etc/gshadow.
#   check-deb.sh DEB     (as root)
set -euo pipefail
deb=$(realpath "${1:?the .deb to check}")
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)

echo "=== lintian $(basename "$deb")"
# Errors and warnings fail (the one warning that does not apply to these
# packages is overridden in the package: debian/lintian-overrides).
# Informational tags are shown; two are expected: the package has a systemd
# unit and no init.d script (stratad runs under systemd or by hand), and the
# "spelling error" lintian sees in an optimised stratad is two overlapping
# pieces of the string "peer is not supported by strata" that g++ stores
# for one copy, not a word of ours.
lintian_status=0
lintian --fail-on error,warning --display-info --pedantic "$deb" >"$deb.lintian" 2>&1 || lintian_status=$?
grep -v '^running with root privileges is not recommended!$' "$deb.lintian" || true
rm -f "$deb.lintian"
if [ "$lintian_status" -ne 0 ]; then
	echo "check-deb.sh: lintian reports errors or warnings (status $lintian_status)" >&2
	exit 1
fi
echo "lintian: no errors, no warnings"

if [ "$(id -u)" -ne 0 ]; then
	echo "check-deb.sh: the installation check needs root (namespaces and an overlay)" >&2
	exit 77
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
w=$(mktemp -d /tmp/strata-deb-check.XXXXXX)
trap 'rmdir "$w"' EXIT
export deb here w
unshare --mount --net --pid --fork --propagation private bash -euo pipefail -c '
mount -t tmpfs tmpfs "$w"
mkdir -p "$w/root"
# An overlay of / and of each system directory mounted apart from it.
layers=()
overlay() {
	local dir=$1 name=$2
	mkdir -p "$w/upper-$name" "$w/work-$name"
	mount -t overlay overlay -o "lowerdir=$dir,upperdir=$w/upper-$name,workdir=$w/work-$name" "$w/root$dir"
	layers+=("$dir:$w/upper-$name")
}
overlay / root
for dir in /etc /usr /var /opt /srv /home; do
	if mountpoint -q "$dir"; then
		overlay "$dir" "${dir#/}"
	fi
done
mount -t proc proc "$w/root/proc"
mount --rbind /dev "$w/root/dev"
mount -t tmpfs tmpfs "$w/root/run"
mount -t tmpfs tmpfs "$w/root/tmp"
cp "$deb" "$here/check-deb-inside.sh" "$w/root/tmp/"
printf "#!/bin/sh\n# strata check-deb.sh: no service starts in this copy.\nexit 101\n" >"$w/root/usr/sbin/policy-rc.d"
chmod 0755 "$w/root/usr/sbin/policy-rc.d"

chroot "$w/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
	bash /tmp/check-deb-inside.sh prepare "/tmp/$(basename "$deb")"

# What the upper layers hold now: the baseline the purge must return to.
manifest() {
	local layer dir upper
	for layer in "${layers[@]}"; do
		dir=${layer%%:*} upper=${layer#*:}
		(cd "$upper" && find . -mindepth 1 \( -type d -printf "%p dir\n" \) -o \
			\( -type c -printf "%p whiteout\n" \) -o \( -type l -printf "%p link %l\n" \) -o \
			\( -type f -exec sha256sum {} + \) | sed "s|^\\./|$dir/|; s|^\\([0-9a-f]*\\)  \\./\\(.*\\)|$dir/\\2 \\1|" )
	done | sed "s|^//|/|" | LC_ALL=C sort
}
manifest >"$w/before"

chroot "$w/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
	bash /tmp/check-deb-inside.sh install-and-purge "/tmp/$(basename "$deb")"

manifest >"$w/after"
# Each path new or changed since the baseline: a leftover, unless it is
# dpkg'"'"'s (its database, log, triggers), a file that is as it was on the real
# system (written and restored, e.g. /etc/passwd), or a backup adduser and
# deluser keep (/etc/passwd- and the like).
status=0
while read -r path kind rest; do
	case "$path" in
	/var/lib/dpkg/* | /var/log/dpkg.log | /var/cache/debconf/* | /var/cache/man/* | /var/log/apt/* | \
		/etc/passwd- | /etc/group- | /etc/shadow- | /etc/gshadow- | /etc/subuid- | /etc/subgid- | /usr/sbin/policy-rc.d)
		continue ;;
	esac
	if [ "$kind" = dir ] && [ -d "$path" ]; then
		continue # a directory of the real system, copied up for a file in it
	fi
	if [ "$kind" != dir ] && [ "$kind" != whiteout ] && [ "$kind" != link ] && [ -f "$path" ] &&
		[ "$(sha256sum <"$path" | cut -d" " -f1)" = "$kind" ]; then
		continue # the same content as on the real system
	fi
	echo "left behind or changed by install and purge: $path ($kind)" >&2
	status=1
done < <(LC_ALL=C comm -13 "$w/before" "$w/after")
while read -r path kind rest; do
	case "$path" in /var/lib/dpkg/* | /var/log/dpkg.log | /var/cache/debconf/* | /var/cache/man/*) continue ;; esac
	if ! grep -q "^$path " "$w/after"; then
		echo "changed by install and purge: $path was in the copy before and is gone" >&2
		status=1
	fi
done < <(LC_ALL=C comm -23 "$w/before" "$w/after")
[ "$status" -eq 0 ] && echo "nothing left behind: every file the installation and the purge touched is as before"
exit "$status"
'
echo "=== $(basename "$deb"): lintian, install, stratad -p, remove, purge: clean ($(($(date +%s) - start)) s)"
