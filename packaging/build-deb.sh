#!/usr/bin/env bash
# Makes strata's Debian package for one architecture from a `cmake --install`
# of a build for it (prefix /usr, in a staging directory), with dpkg's own
# tools: dpkg-shlibdeps for the library dependencies, dpkg-gencontrol for the
# control file (from packaging/debian/control and changelog), dpkg-deb for
# the archive. Adds what a package has beyond the install: the default
# configuration and /etc/default/strata as conffiles, the maintainer
# scripts, copyright and changelog; strips the programs and compresses the
# manual pages as Debian's tools do. Files carry the changelog's date, so
# that the same sources make the same package.
#   build-deb.sh ARCH STAGE OUTDIR [VERSION]
# ARCH: a Debian architecture (amd64, arm64, armhf); STAGE: the install's
# DESTDIR; OUTDIR: where strata_VERSION_ARCH.deb goes; VERSION: the
# project's version, checked against the changelog's.
set -euo pipefail
arch=${1:?architecture} stage=${2:?staging directory} out=${3:?output directory} project_version=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
fail() {
	echo "build-deb.sh ($arch): $*" >&2
	exit 1
}

version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ -n "$project_version" ] && [ "${version%-*}" != "$project_version" ]; then
	fail "packaging/debian/changelog is at $version, the project at $project_version: add a changelog entry"
fi
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH
strip=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)-strip
command -v "$strip" >/dev/null || fail "$strip not found (binutils for $arch)"

mkdir -p "$out"
work=$(mktemp -d "$out/.deb-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
cp -a "$stage"/. "$root"/
for f in usr/sbin/stratad usr/bin/stratactl lib/systemd/system/stratad.service \
	usr/share/man/man8/stratad.8 usr/share/man/man1/stratactl.1 usr/share/man/man5/strata.conf.5; do
	[ -f "$root/$f" ] || fail "the install in $stage has no $f"
done
unit=$root/lib/systemd/system/stratad.service
# (ExecStart's prefixes: "!" runs the daemon as root, which switches itself.)
grep -Eq '^ExecStart=[-@:+!]*/usr/sbin/stratad ' "$unit" || fail "the unit does not start /usr/sbin/stratad"
# The user the unit runs stratad as (-u) is the one the postinst creates.
user=$(sed -n 's/^user=//p' "$here/debian/postinst")
unit_user=$(sed -n 's/^ExecStart=.* -u \([^ ]*\).*/\1/p' "$unit")
if [ -n "$unit_user" ] && [ "$unit_user" != "$user" ]; then
	fail "the unit runs stratad as $unit_user, the postinst creates $user"
fi
for f in usr/sbin/stratad usr/bin/stratactl; do
	file -b "$root/$f" | grep -q '^ELF' || fail "$f is not an ELF program"
	"$strip" --remove-section=.comment --remove-section=.note --strip-unneeded "$root/$f"
done

install -D -m 0644 "$here/strata.conf" "$root/etc/strata/strata.conf"
install -D -m 0644 "$here/default" "$root/etc/default/strata"
doc=$root/usr/share/doc/strata
install -D -m 0644 "$here/debian/copyright" "$doc/copyright"
gzip -9n <"$here/debian/changelog" >"$doc/changelog.Debian.gz"
install -D -m 0644 "$here/debian/lintian-overrides" "$root/usr/share/lintian/overrides/strata"
find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +

# The control area.
mkdir -p "$root/DEBIAN"
for script in postinst prerm postrm; do
	install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find etc -type f -printf '/%p\n' | LC_ALL=C sort) >"$root/DEBIAN/conffiles"
# dpkg-shlibdeps and dpkg-gencontrol read debian/control and debian/changelog
# of a source tree: a small one beside the package's.
mkdir -p "$work/src/debian"
cp "$here/debian/control" "$here/debian/changelog" "$work/src/debian/"
(
	cd "$work/src"
	export DEB_HOST_ARCH=$arch
	dpkg-shlibdeps -Tdebian/substvars "$root/usr/sbin/stratad" "$root/usr/bin/stratactl"
	dpkg-gencontrol -pstrata -P"$root" -Tdebian/substvars -fdebian/files
)
# md5sums of everything dpkg does not track as a conffile.
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
	LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

# Modes and times as Debian's tools leave them; owners root (dpkg-deb).
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -path "$root/DEBIAN/*" -exec chmod 0644 {} +
chmod 0755 "$root/usr/sbin/stratad" "$root/usr/bin/stratactl"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

deb=$out/strata_${version}_${arch}.deb
rm -f "$out"/strata_*_"$arch".deb # an older version's
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
