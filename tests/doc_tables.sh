#!/bin/bash
# doc_tables.sh: every row of an extension table has its man page entry.
# The rows are read from the programs' own help, which is made from the
# tables: ringd's --input kinds (daemon/inputs.c) in ringd(8), ringctl's
# commands (tools/ringctl.c) in ringctl(1), SYNOPSIS included. (The
# output formats of ringbridge are checked row by row in test_format.c.)
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." || exit 1

specs=$("$RINGD" --help | sed -n 's/^  -i, --input INPUT *//p')
check "ringd --help lists the inputs" test -n "$specs"
for s in ${specs//|/ }; do
	p=${s%%:*}
	[ "$p" = "$s" ] || p=$p:
	check "ringd(8) documents --input $s" \
	    grep -q "^\.It Cm $p\( \|$\)" daemon/ringd.8
done

cmds=$("$RINGCTL" --help | sed -n 's/^ *ringctl \([a-z][a-z-]*\).*/\1/p')
check "ringctl --help lists the commands" test -n "$cmds"
synopsis=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' tools/ringctl.1)
description=$(sed -n '/^\.Sh DESCRIPTION/,/^\.Sh /p' tools/ringctl.1)
for c in $cmds; do
	check "ringctl(1) SYNOPSIS has $c" grep -qx "\.Cm $c" <<<"$synopsis"
	check "ringctl(1) DESCRIPTION documents $c" \
	    grep -q "^\.It Cm $c\( \|$\)" <<<"$description"
done

finish
