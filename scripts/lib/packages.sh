# Shared by scripts/setup.sh and scripts/setup-cross.sh (sourced, not run).

# missing_packages PACKAGE...: prints, one per line, those not installed
# (a name may carry :ARCH).
missing_packages() {
	local p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

# as_root COMMAND...: runs it as root, through sudo when not root already.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}
