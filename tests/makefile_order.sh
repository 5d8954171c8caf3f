#!/bin/sh
# makefile_order.sh: the Makefile's fragments do not depend on the order
# make reads them in. Make's database (every rule and variable, as `make
# -p` prints it) must come out the same with the fragments read forwards
# and backwards; a fragment that names, in a rule, a variable another one
# defines would lose it in one of the two orders. Words are sorted within
# each line: lists the fragments append to legitimately differ in order.
set -eu
MAKE=${MAKE:-make}

db() {
	# -q: run nothing; goal lint: no dependency check (Makefile); a
	# build tree that does not exist: no .d files of a build going on.
	$MAKE --no-print-directory -rpq B=build-makefile-order "$@" lint \
	    2>/dev/null |
	    grep -v '^#\|^	\|^$' |
	    grep -v '^\(MAKEFILE_LIST\|MAKEFLAGS\|MAKEOVERRIDES\|MFLAGS\|MK_ORDER\|GNUMAKEFLAGS\|CURDIR\|\.VARIABLES\)\b\|^-\*-command-variables' |
	    perl -lane 'print join " ", sort @F' | sort
}

fwd=$(mktemp) bwd=$(mktemp)
trap 'rm -f "$fwd" "$bwd"' EXIT
db > "$fwd" || true
db MK_ORDER=reverse > "$bwd" || true
[ -s "$fwd" ] || { echo "makefile_order: make printed no database"; exit 1; }
if ! diff "$fwd" "$bwd"; then
	echo "makefile_order: FAILED: the rules above depend on the order" \
	    "the fragments are read in"
	exit 1
fi
echo "makefile_order: $(wc -l < "$fwd") rules and variables, same in both orders"
