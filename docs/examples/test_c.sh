#!/bin/bash
# reader.c (libshm directly): an exact overrun for a stalled reader,
# resuming from a sequence number, a producer restart, and eof.
# Environment: READER, the built example.
. "$(dirname "$0")/lib.sh"
: "${READER:?set READER to the built reader example}"

lines() {
	awk -v a="$1" -v b="$2" 'BEGIN { pad = sprintf("%88s", "");
	    gsub(/ /, "x", pad); for (i = a; i < b; i++)
	    printf "line %d %s\n", i, pad }'
}

# gapcheck FILE N: messages 0.. with one overrun hole of exactly the
# reported size, the rest up to N-1, then eof with the same total.
gapcheck() {
	python3 - "$1" "$2" <<'PYEOF'
import re, sys
seqs, gaps = [], []
out = open(sys.argv[1]).read().splitlines()
for line in out:
    m = re.match(r"\d+:(\d+) line (\d+) ", line)
    if m:
        assert m[1] == m[2], line
        seqs.append(int(m[1]))
    m = re.match(r"# overrun: lost (\d+) messages, next is (\d+)$", line)
    if m:
        gaps.append((len(seqs), int(m[1]), int(m[2])))
assert len(gaps) == 1, gaps
at, lost, nxt = gaps[0]
first = seqs[0] if at > 0 else nxt - lost
assert seqs[:at] == list(range(first, first + at)), "before the overrun"
assert lost > 0 and nxt == first + at + lost, gaps
assert seqs[at:] == list(range(nxt, int(sys.argv[2]))), "after it"
assert out[-1] == f"# eof: {lost} lost", out[-1]
print(f"# {len(seqs)} read, overrun of {lost} after {at}")
PYEOF
}

# ---- a stalled reader on a 64 KiB ring is lapped ----
R=${PFX}c
N=5000		# 500 KB through a 64 KiB ring
ringd_fifo "$R" -s 64K
lines 0 10 >&7
"$READER" "$R" >"$T/c.out" 2>"$T/c.err" 7>&- &
RD=$!
PIDS+=("$RD")
wait_for "$T/c.out" "$E:9 line 9 "
kill -STOP "$RD"
lines 10 "$N" >&7
ringd_end
kill -CONT "$RD"
wait "$RD"
check "overrun: reader exits 0 at eof" test $? -eq 0
check "overrun: exact loss, nothing else missing" gapcheck "$T/c.out" "$N"

# ---- resume: from a sequence number, and from one already overwritten ----
"$READER" "$R" $((N - 5)) >"$T/r.out" 2>"$T/r.err"
check "resume from N-5: exit 0" test $? -eq 0
check "resume from N-5: the last five, then eof" \
    contiguous "$T/r.out" $((N - 5)) $((N - 1))
"$READER" "$R" 0 >"$T/z.out" 2>"$T/z.err"
check "resume from 0: overrun counts exactly what was overwritten" \
    gapcheck "$T/z.out" "$N"

# ---- restart: a producer dies, a new one takes the ring over ----
R=${PFX}d
ringd_fifo "$R"
lines 0 3 >&7
"$READER" "$R" >"$T/d.out" 2>"$T/d.err" 7>&- &
RD=$!
PIDS+=("$RD")
wait_for "$T/d.out" "$E:2 line 2 "
kill -KILL "$RINGD_PID"
wait "$RINGD_PID" 2>/dev/null
exec 7>&-
ringd_fifo "$R"
lines 0 2 >&7
ringd_end
wait "$RD"
check "restart: reader exits 0 at eof" test $? -eq 0
printf '%s\n' "1:0 line 0" "1:1 line 1" "1:2 line 2" "# restart: epoch 2" \
    "2:0 line 0" "2:1 line 1" "# eof: 0 lost" >"$T/d.want"
# Epochs are creation times in microseconds: number them 1, 2... here.
sed 's/ x*$//' "$T/d.out" | awk '
	function ord(e) { if (!(e in n)) n[e] = ++k; return n[e] }
	/^[0-9]+:/ { split($0, a, ":"); sub(/^[0-9]+/, ord(a[1])); print; next }
	/^# restart: epoch [0-9]+$/ { $4 = ord($4); print; next }
	{ print }' >"$T/d.got"
check "restart: epoch 1, restart, epoch 2, eof" cmp "$T/d.want" "$T/d.got"

examples_finish
