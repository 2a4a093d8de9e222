#!/usr/bin/env bash
# Fails when a pure source file includes an OS header. Pure files are all
# sources in the library folders except *_linux.* and gpio_gpiod.*; the
# daemon and tools are exempt (they are the OS-facing programs).
set -u
root=${1:-.}
status=0
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys/|linux/|netlink/|gpiod\.h|gpiod\.hpp|asm/|net/|netinet/|arpa/|unistd\.h|fcntl\.h|poll\.h|syslog\.h|signal\.h|glob\.h|dirent\.h|pwd\.h|grp\.h)'
for dir in core conf ntp control refclock phc rtc; do
	[ -d "$root/$dir" ] || continue
	while IFS= read -r -d '' f; do
		case "$(basename "$f")" in
		*_linux.cpp | *_linux.h | gpio_gpiod.cpp | gpio_gpiod.h) continue ;;
		esac
		if grep -nE "$pattern" "$f"; then
			echo "boundary: $f includes an OS header; move that code into a *_linux.cpp adapter" >&2
			status=1
		fi
	done < <(find "$root/$dir" -type f \( -name '*.cpp' -o -name '*.h' \) -print0)
done
if [ $status -eq 0 ]; then
	echo "boundary: pure sources include no OS headers"
fi
exit $status
