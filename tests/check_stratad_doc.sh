#!/usr/bin/env bash
# docs/stratad.md (the source of stratad(8)) against `stratad --help`: every
# option stratad lists has a row in the page's options table, every option
# it refuses ("Not supported by strata yet: …") is named as refused in the
# page and has no row, and every row is an option stratad lists.
#   check_stratad_doc.sh STRATAD DOC
set -euo pipefail
stratad=${1:?stratad} doc=${2:?docs/stratad.md}
help=$("$stratad" --help)
status=0
fail() {
	echo "check_stratad_doc: $*" >&2
	status=1
}

# "  -f FILE\t…", "  -v, --version\t…": the letters stratad takes.
listed=$(sed -n 's/^  -\([[:alnum:]]\).*/\1/p' <<<"$help" | sort -u)
[ -n "$listed" ] || fail "no options in stratad --help"
refused=$(sed -n 's/^Not supported by strata yet: \(.*\)\.$/\1/p' <<<"$help" | grep -o -- '-[[:alnum:]]' | tr -d - | sort -u || true)
# The table's rows: "| `-f FILE` | …", "| `-4`, `-6` | …".
rows=$(grep '^| `-' "$doc" | cut -d'|' -f2 | grep -o -- '`-[[:alnum:]]' | tr -d '`-' | sort -u)

for f in $listed; do
	grep -qx "$f" <<<"$rows" || fail "stratad --help lists -$f; docs/stratad.md's options table has no row for it"
done
for f in $rows; do
	grep -qx "$f" <<<"$listed" || fail "docs/stratad.md documents -$f, which stratad --help does not list"
done
for f in $refused; do
	grep -q -- "\`-$f" "$doc" || fail "stratad refuses -$f; docs/stratad.md does not say so"
done
[ "$status" -eq 0 ] && echo "docs/stratad.md documents the $(wc -w <<<"$listed") options of stratad --help" \
	"and the $(wc -w <<<"$refused") it refuses"
exit "$status"
