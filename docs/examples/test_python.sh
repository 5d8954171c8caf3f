#!/bin/bash
# sse_client.py against ringd + ringbridge: resume across a ringbridge
# restart without loss or duplicates, then an overrun reported as a gap
# with its exact size, then eof.
. "$(dirname "$0")/lib.sh"

# lines N M: messages "line N" .. "line M-1", about 100 bytes each.
lines() {
	awk -v a="$1" -v b="$2" 'BEGIN { pad = sprintf("%88s", "");
	    gsub(/ /, "x", pad); for (i = a; i < b; i++)
	    printf "line %d %s\n", i, pad }'
}

# ---- resume after ringbridge restarts ----
# --reuseport (which also sets SO_REUSEADDR) lets the second bridge take
# the port while connections of the first are still in TIME_WAIT.
R=${PFX}a
ringd_fifo "$R"
bridge_start "$R" 0 --reuseport
lines 0 100 >&7
python3 "$EX/sse_client.py" \
    "http://127.0.0.1:$PORT/rings/$R/stream?from=oldest" >"$T/a.out" \
    2>"$T/a.err" 7>&- &
PY=$!
PIDS+=("$PY")
wait_for "$T/a.out" "$E:99 line 99 "
bridge_stop
lines 100 200 >&7	# published while no bridge runs
bridge_start "$R" "$PORT" --reuseport
wait_for "$T/a.out" "$E:199 line 199 "
ringd_end
wait "$PY"
check "resume: client exits 0 at eof" test $? -eq 0
check "resume: messages 0..199, no loss, no duplicate" \
    contiguous "$T/a.out" 0 199
check "resume: reconnected with the last id" \
    grep -qx "# connected, Last-Event-ID: $E:99" "$T/a.out"
check "resume: eof and the totals" \
    grep -qx "# eof: 200 messages received, 0 lost" "$T/a.out"
bridge_stop

# ---- overrun: a stalled client on a 64 KiB ring ----
R=${PFX}b
N=400000	# 40 MB: more than any socket buffer can hold
ringd_fifo "$R" -s 64K
bridge_start "$R"
lines 0 10 >&7
python3 "$EX/sse_client.py" \
    "http://127.0.0.1:$PORT/rings/$R/stream?from=oldest" >"$T/b.out" \
    2>"$T/b.err" 7>&- &
PY=$!
PIDS+=("$PY")
wait_for "$T/b.out" "$E:9 line 9 "
kill -STOP "$PY"
lines 10 "$N" >&7
ringd_end
kill -CONT "$PY"
wait "$PY"
check "overrun: client exits 0 at eof" test $? -eq 0
check "overrun: the bridge reported it" grep -q "^# overrun: " "$T/b.out"
# The messages, in order, with exactly one hole: the reported gap.
check "overrun: gap size exact, no duplicates, nothing else missing" \
    python3 - "$T/b.out" "$N" <<'EOF'
import re, sys
seqs, gaps = [], []
for line in open(sys.argv[1]):
    m = re.match(r"\d+:(\d+) line (\d+) ", line)
    if m:
        assert m[1] == m[2], line
        seqs.append(int(m[1]))
    m = re.match(r"# gap: lost (\d+) messages, next is (\d+)$", line)
    if m:
        gaps.append((len(seqs), int(m[1]), int(m[2])))
assert len(gaps) == 1, gaps
at, lost, nxt = gaps[0]
assert seqs[:at] == list(range(at)), "before the gap"
assert lost > 0 and nxt == at + lost, gaps
assert seqs[at:] == list(range(nxt, int(sys.argv[2]))), "after the gap"
tail = open(sys.argv[1]).read().splitlines()[-1]
assert tail == f"# eof: {len(seqs)} messages received, {lost} lost", tail
print(f"# {len(seqs)} received, gap of {lost} at {at}")
EOF

examples_finish
