#!/usr/bin/env bash
# Fails when a pure source file includes an OS header. Pure files are all
# sources in the library folders except *_linux.* and gpio_gpiod.*; the
# daemon and tools are exempt (they are the OS-facing programs).
set -u
root=${1:-.}
status=0
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys/|linux/|netlink/|gpiod\.h|gpiod\.hpp|asm/|net/|netinet/|arpa/|unistd\.h|fcntl\.h|poll\.h|syslog\.h|signal\.h|glob\.h|dirent\.h|pwd\.h|grp\.h)'
for dir in core conf ntp control refclock phc rtc sources; do
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
# The source engine is sans-IO: beyond the OS headers, no adapter of
# another folder (*_linux.h), no daemon header, no file or stream I/O and
# no threads. The daemon, the simulator and the tests give it what it needs.
engine_pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*(["<][^">]*_linux\.h[">]|"daemon/|"tools/|<(fstream|filesystem|cstdio|stdio\.h|thread|future|iostream)>)'
if [ -d "$root/sources" ]; then
	while IFS= read -r -d '' f; do
		if grep -nE "$engine_pattern" "$f"; then
			echo "boundary: $f (the source engine) reaches for I/O; give it an interface instead (sources/io.h)" >&2
			status=1
		fi
	done < <(find "$root/sources" -type f \( -name '*.cpp' -o -name '*.h' \) -print0)
fi
if [ $status -eq 0 ]; then
	echo "boundary: pure sources include no OS headers; the source engine does no I/O"
fi
exit $status
