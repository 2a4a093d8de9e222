#!/usr/bin/env bash
# The steps of check-deb.sh inside its throwaway copy of the system (never
# run this elsewhere: it removes packages).
#   check-deb-inside.sh prepare DEB
#   check-deb-inside.sh install-and-purge DEB
set -euo pipefail
fail() {
	echo "check-deb: $*" >&2
	exit 1
}
[ -x /usr/sbin/policy-rc.d ] && [ ! -e /run/systemd/system ] || fail "not inside check-deb.sh's copy"

# Any stratad in this PID namespace (it holds only this check's processes)
# would have been started by the package.
no_daemon() {
	local comm
	for comm in /proc/[0-9]*/comm; do
		if [ "$(cat "$comm" 2>/dev/null)" = stratad ]; then
			fail "a stratad is running after $1"
		fi
	done
}

deb=$2
case "$1" in
prepare)
	# The time daemons installed here (chrony, for the integration tests):
	# the package must refuse to go beside them, then they leave the copy.
	others=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' |
		awk '$1 == "ii" && / time-daemon/ {print $2}')
	if [ -n "$others" ]; then
		if dpkg -i "$deb" >/tmp/conflict.log 2>&1; then
			fail "dpkg -i installed strata beside $others (Conflicts: time-daemon)"
		fi
		grep -q "conflicts with time-daemon" /tmp/conflict.log ||
			fail "dpkg -i failed otherwise than by the conflict: $(cat /tmp/conflict.log)"
		echo "dpkg -i with $others installed: refused (strata conflicts with time-daemon)"
		# shellcheck disable=SC2086
		dpkg --purge $others >/dev/null
	fi
	exit 0
	;;
install-and-purge) ;;
*) fail "unknown step $1" ;;
esac

# dpkg's state before strata: what the purge must return to.
dpkg-query -W -f='${Package}\n' | grep -qx strata && fail "strata is already installed in the copy"

echo "=== dpkg -i $(basename "$deb")"
dpkg -i "$deb"
no_daemon "dpkg -i"
dpkg-query -W -f='${db:Status-Abbrev}\n' strata | grep -q '^ii' || fail "strata is not installed"
# The daemon's user, as the postinst names it.
user=$(sed -n 's/^user=//p' /var/lib/dpkg/info/strata.postinst)
[ -n "$user" ] || fail "no user= in the postinst"
dpkg -L strata >/tmp/strata.list
echo "dpkg -L strata: $(wc -l </tmp/strata.list) paths"
for f in /usr/sbin/stratad /usr/bin/stratactl /lib/systemd/system/stratad.service /etc/strata/strata.conf \
	/etc/default/strata /usr/share/man/man8/stratad.8.gz /usr/share/man/man1/stratactl.1.gz \
	/usr/share/man/man5/strata.conf.5.gz; do
	grep -qx "$f" /tmp/strata.list || fail "the package does not hold $f"
done
[ "$(cat /var/lib/dpkg/info/strata.conffiles)" = "$(printf '/etc/default/strata\n/etc/strata/strata.conf')" ] ||
	fail "conffiles: $(cat /var/lib/dpkg/info/strata.conffiles)"
getent passwd "$user" | grep -q ":/var/lib/strata:/usr/sbin/nologin$" ||
	fail "no system user $user with home /var/lib/strata: $(getent passwd "$user")"
getent group "$user" >/dev/null || fail "no group $user"
for dir in /var/lib/strata /var/log/strata; do
	[ "$(stat -c '%U:%G %a' "$dir")" = "$user:$user 750" ] || fail "$dir: $(stat -c '%U:%G %a' "$dir")"
done
# Enabled as Debian enables a service (the wants link), not started.
[ -L /etc/systemd/system/multi-user.target.wants/stratad.service ] || fail "the unit was not enabled"
echo "installed: $user and its /var/lib/strata, /var/log/strata; the unit enabled, not started"

echo "=== stratad -p -f /etc/strata/strata.conf"
# Another architecture's package (checked by hand: CI checks amd64's) runs
# under qemu-user.
run=()
arch=$(dpkg-deb -f "$deb" Architecture)
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
	case "$arch" in
	arm64) run=(qemu-aarch64-static) ;;
	armhf) run=(qemu-arm-static) ;;
	*) fail "no emulator known for $arch" ;;
	esac
	command -v "${run[0]}" >/dev/null || fail "${run[0]} (qemu-user-static) runs $arch's stratad; not installed"
fi
"${run[@]}" /usr/sbin/stratad -p -f /etc/strata/strata.conf >/tmp/strata.p || fail "stratad -p refuses the shipped configuration"
grep -q '^pool ' /tmp/strata.p || fail "stratad -p printed no pool: $(cat /tmp/strata.p)"
cat /tmp/strata.p
man -w stratad strata.conf stratactl >/dev/null || fail "man finds no page"

# Remove keeps the configuration, the daemon's data and its user.
echo "strata check" >/var/lib/strata/strata.drift
mkdir -p /etc/strata/conf.d
echo "allow 192.0.2.0/24" >/etc/strata/conf.d/lan.conf
echo "=== dpkg --remove strata"
dpkg --remove strata
no_daemon "dpkg --remove"
[ ! -e /usr/sbin/stratad ] || fail "remove left /usr/sbin/stratad"
for f in /etc/strata/strata.conf /etc/default/strata /var/lib/strata/strata.drift /etc/strata/conf.d/lan.conf; do
	[ -f "$f" ] || fail "remove took $f"
done
getent passwd "$user" >/dev/null || fail "remove took the user $user"

echo "=== dpkg --purge strata"
dpkg --purge strata
if dpkg-query -W -f='${db:Status-Abbrev}\n' strata 2>/dev/null | grep -q .; then
	fail "dpkg still knows strata after the purge"
fi
while read -r path; do
	if [ -e "$path" ] && [ ! -d "$path" ]; then
		fail "the purge left $path"
	fi
done </tmp/strata.list
for path in /etc/strata /var/lib/strata /var/log/strata /run/strata \
	/etc/systemd/system/multi-user.target.wants/stratad.service \
	/var/lib/systemd/deb-systemd-helper-enabled/stratad.service.dsh-also; do
	[ ! -e "$path" ] && [ ! -L "$path" ] || fail "the purge left $path"
done
getent passwd "$user" >/dev/null && fail "the purge left the user $user"
getent group "$user" >/dev/null && fail "the purge left the group $user"
echo "purged: the files of dpkg -L, /etc/strata, /var/lib/strata, /var/log/strata, the user and group gone"
