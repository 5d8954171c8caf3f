#!/bin/bash
# bridge_stall.sh - ringbridge while a producer is stopped inside a header
# update (issue 12 leftovers, ringbridge(8) "PRODUCER STALLS"):
# ringd A is stopped with SIGSTOP while its header seqlock is odd, as
# tests/promise_tools.sh item 7 makes it (libshm's header reads then
# return -EDEADLK after ~2 ms). Streams on A connected before and during
# the stall (a new one from the oldest, a resume by Last-Event-ID) must
# stay connected and, once A continues, get every message exactly once;
# a client lapped before the stall (on_overrun=skip) whose resync needs
# the header must wait and then get the exact gap; a stream on ring B
# keeps flowing meanwhile; /rings/A and /metrics
# answer within a bound (503 + Retry-After, ringbridge_ring_stalled 1).
#
#	RINGD=build/bin/ringd RINGBRIDGE=build/bin/ringbridge \
#	    bash tests/bridge_stall.sh
set -u
. "$(dirname "$0")/lib.sh"
RINGD=${RINGD:-build/bin/ringd}
RINGBRIDGE=${RINGBRIDGE:-build/bin/ringbridge}
PY=${PYTHON:-/usr/bin/python3}
# The most an answer on the event loop may take while A is stalled:
# curl's own start-up on a loaded machine included (a header read that
# waited for the producer took 1.25 s and more before issue 12 item 7).
BOUND_MS=${BOUND_MS:-1000}
A=bstall-a-$$
B=bstall-b-$$
T=$(mktemp -d)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ring_rm "$A" "$B"
	rm -rf "$T"
}
trap cleanup EXIT

# The header seqlock: first word of header line 4 (libshm/layout.h), as
# in tests/promise_tools.sh item 7.
SL_OFF=512
# sl NAME [add]: print the seqlock (after adding add to it).
sl() {
	"$PY" - "/dev/shm/shmring.$1" "$SL_OFF" "${2:-0}" <<'PYEOF'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 4096)
    off, add = int(sys.argv[2]), int(sys.argv[3])
    v, = struct.unpack_from("<Q", m, off)
    struct.pack_into("<Q", m, off, v + add)
    print(v + add)
PYEOF
}

# events FILE: the number of SSE messages (id lines) in a stream's output.
events() {
	local n
	n=$(grep -c '^id: ' "$1" 2>/dev/null)
	echo "${n:-0}"
}
at_least() { [ "$(events "$1")" -ge "$2" ]; }
ndjson_at_least() {
	local n
	n=$(grep -c '"seq"' "$1" 2>/dev/null)
	[ "${n:-0}" -ge "$2" ]
}

has_last() { grep -qs '^id: [0-9]*:2149$' "$1"; }

# publish FROM TO [PAD]: lines a-FROM .. a-TO into ring A (message seq
# N-1), each followed by " PAD" if given.
publish() {
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "a-$i${3:+ $3}"
	done >&7
}

# lapped_client URL GO OUT: an SSE client that reads the headers, then
# nothing until file GO exists (its cursor in the bridge is lapped
# meanwhile), then everything: "msg SEQ", "gap LOST NEXT", "overrun ...",
# "end" lines into OUT.
lapped_client() {
	"$PY" - "$@" <<'PYEOF'
import os, sys, time, urllib.request
url, go, out = sys.argv[1:4]
f = open(out, "w", buffering=1)
r = urllib.request.urlopen(url, timeout=120)
f.write("connected\n")
while not os.path.exists(go):
    time.sleep(0.02)
ev = {}
for raw in r:
    line = raw.decode("utf-8").rstrip("\n")
    if line == "":
        t = ev.get("event", "message")
        if "data" in ev and t == "message":
            f.write("msg %s\n" % ev["id"].split(":")[1])
        elif "data" in ev:
            import json
            d = json.loads(ev["data"])
            f.write("%s %s %s\n" % (t, d.get("lost"), d.get("next")))
        ev = {}
    elif not line.startswith(":"):
        k, _, v = line.partition(": ")
        ev[k] = v
f.write("end\n")
PYEOF
}

# timed NAME URL: GET, "STATUS MS" into $T/NAME.t, headers and body kept.
timed() {
	local t0 t1 code
	t0=$(date +%s%N)
	code=$(curl -s -D "$T/$1.h" -o "$T/$1.b" -w '%{http_code}' \
	    --max-time 10 "$2")
	t1=$(date +%s%N)
	echo "$code $(((t1 - t0) / 1000000))" > "$T/$1.t"
}

mkfifo "$T/fifo"
exec 7<>"$T/fifo"
"$RINGD" -q -s 64K "$A" <"$T/fifo" 2>"$T/ringd-a.err" &
RINGD_A=$!
PIDS+=("$RINGD_A")
"$RINGD" -q --demo ticks -r 100 -s 64K "$B" 2>"$T/ringd-b.err" &
PIDS+=("$!")
publish 1 1
until_ok "ring $A" test -s /dev/shm/shmring.$A || exit 1
# One event loop: a stall on it would stall every stream.
"$RINGBRIDGE" -l 127.0.0.1:0 -r "$A" -r "$B" --threads 1 --heartbeat 1 \
    > "$T/bridge.out" 2> "$T/bridge.err" &
PIDS+=("$!")
until_ok "ringbridge" grep -q '^ringbridge: listening on' "$T/bridge.out" ||
    exit 1
PORT=$(sed -n 's|^ringbridge: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' \
    "$T/bridge.out")
BASE=http://127.0.0.1:$PORT
until_ok "ring $A served" curl -sf -o /dev/null "$BASE/rings/$A" || exit 1
EPOCH=$(curl -s "$BASE/rings/$A" | json_key epoch)

# stream NAME URL [curl args]: a stream kept in $T/NAME until killed.
declare -A SPID
stream() {
	local name=$1 url=$2
	shift 2
	curl -sN --max-time 120 "$@" "$url" > "$T/$name" 2>"$T/$name.err" &
	SPID[$name]=$!
	PIDS+=("$!")
}

publish 2 50
stream before "$BASE/rings/$A/stream?from=oldest"
until_ok "50 events before the stall" at_least "$T/before" 50 || exit 1
stream nd "$BASE/rings/$A/stream?format=ndjson"
stream other "$BASE/rings/$B/stream"
lapped_client "$BASE/rings/$A/stream?on_overrun=skip" "$T/go" \
    "$T/lapped" 2>"$T/lapped.err" &
SPID[lapped]=$!
PIDS+=("$!")
until_ok "the lapped client" grep -qs connected "$T/lapped" || exit 1
sleep 0.3
# 2 MB through a 64 KiB ring, 40 KB at a time so that the reading
# streams keep up: the client that does not read is lapped.
PAD=$(printf 'x%.0s' $(seq 1000))
for ((k = 51; k <= 2050; k += 40)); do
	publish $k $((k + 39)) "$PAD"
	until_ok "$((k + 39)) events before the stall" eval \
	    'at_least "$T/before" $((k + 39)) &&
	    ndjson_at_least "$T/nd" $((k - 11))' || exit 1
done

# ---- the stall: stopped, seqlock odd ------------------------------------
kill -STOP "$RINGD_A"
BUMPED=0
if [ $(($(sl "$A") % 2)) = 0 ]; then
	sl "$A" 1 >/dev/null
	BUMPED=1
fi
publish 2051 2100	# waits in the FIFO until ringd continues
touch "$T/go"		# the lapped client reads: its resync needs the header
other0=$(events "$T/other")
stream during "$BASE/rings/$A/stream?from=oldest"
stream resume "$BASE/rings/$A/stream" -H "Last-Event-ID: $EPOCH:20"
timed ring "$BASE/rings/$A"
timed metrics "$BASE/metrics"
read -r code ms < "$T/ring.t"
if [ "$code" = 503 ] && grep -qi '^Retry-After:' "$T/ring.h" &&
    grep -q '"state":"stalled"' "$T/ring.b"; then
	pass "/rings/$A while stalled: 503, Retry-After, state stalled"
else
	fail "/rings/$A while stalled: $code $(cat "$T/ring.b")"
fi
if [ "$ms" -le "$BOUND_MS" ]; then
	pass "/rings/$A answered in $ms ms"
else
	fail "/rings/$A took $ms ms (bound $BOUND_MS)"
fi
read -r code ms < "$T/metrics.t"
if [ "$code" = 200 ] &&
    grep -q "^ringbridge_ring_stalled{ring=\"$A\"} 1$" "$T/metrics.b"; then
	pass "/metrics while stalled: 200, ringbridge_ring_stalled 1"
else
	fail "/metrics while stalled: $code $(grep stalled "$T/metrics.b")"
fi
if [ "$ms" -le "$BOUND_MS" ]; then
	pass "/metrics answered in $ms ms"
else
	fail "/metrics took $ms ms (bound $BOUND_MS)"
fi
# Every request again: a known stall costs no header read at all.
for i in 1 2 3 4 5; do
	timed "ring$i" "$BASE/rings/$A"
	read -r code ms < "$T/ring$i.t"
	[ "$code" = 503 ] && [ "$ms" -le "$BOUND_MS" ] ||
	    fail "/rings/$A while stalled, request $i: $code in $ms ms"
done
sleep 1.5
other1=$(events "$T/other")
if [ $((other1 - other0)) -ge 20 ]; then
	pass "ring $B kept flowing during the stall ($((other1 - other0)) events)"
else
	fail "ring $B: $((other1 - other0)) events in 1.5 s of stall"
fi
dropped=
for s in before nd during resume lapped; do
	kill -0 "${SPID[$s]}" 2>/dev/null || dropped="$dropped $s"
done
if [ -z "$dropped" ]; then
	pass "no stream dropped during the stall"
else
	fail "dropped during the stall:$dropped ($(cat "$T/during" \
	    "$T/resume" | head -3))"
fi

# ---- continued ----------------------------------------------------------
[ $BUMPED = 1 ] && sl "$A" 1 >/dev/null
kill -CONT "$RINGD_A"
publish 2101 2150
until_ok "2150 events after the stall" at_least "$T/before" 2150
until_ok "every stream caught up" eval 'has_last "$T/during" &&
    has_last "$T/resume" && grep -qs "\"seq\":2149," "$T/nd" &&
    grep -qs "^msg 2149$" "$T/lapped"'
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/rings/$A")
[ "$code" = 200 ] && pass "/rings/$A: 200 once continued" ||
    fail "/rings/$A once continued: $code"
curl -s "$BASE/metrics" | grep -q "^ringbridge_ring_stalled{ring=\"$A\"} 0$" &&
    pass "/metrics: stalled 0 once continued" ||
    fail "/metrics once continued: $(curl -s "$BASE/metrics" | grep stalled)"
dropped=
for s in before nd during resume other lapped; do
	kill -0 "${SPID[$s]}" 2>/dev/null || dropped="$dropped $s"
done
[ -z "$dropped" ] && pass "every stream still connected" ||
    fail "streams ended:$dropped"

# exact FILE FIRST LAST FORMAT: messages FIRST..LAST (seq), each once, in
# order, epoch EPOCH, data a-(seq+1).
exact() {
	"$PY" - "$1" "$2" "$3" "$4" "$EPOCH" <<'PYEOF'
import json, sys
path, first, last, fmt, epoch = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
got = []
gaps = []
if fmt == "sse":
    ev = {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line == "":
            if "id" in ev and ev.get("event", "message") == "message":
                e, s = ev["id"].split(":")
                got.append((int(e), int(s), ev.get("data")))
            elif ev.get("event") == "gap":
                # The ring lapped the start point: exact count only.
                d = json.loads(ev["data"])
                if got or first < 0 or d["next"] - d["lost"] != first:
                    sys.exit("gap %r (from %d)" % (d, first))
                first = d["next"]
                gaps.append(d)
            elif ev.get("event") not in (None, "message"):
                sys.exit("unexpected event %r" % ev)
            ev = {}
        elif not line.startswith(":"):
            k, _, v = line.partition(": ")
            ev[k] = v
else:
    for line in open(path, encoding="utf-8"):
        if line.strip():
            j = json.loads(line)
            if "event" in j:
                sys.exit("unexpected event %r" % j)
            got.append((j["epoch"], j["seq"], j["data"]))
got = [(e, s, d.split(" ")[0]) for e, s, d in got]
if first < 0 and got:
    first = got[0][1]   # from=oldest after the ring lapped: wherever
want = [(epoch, s, "a-%d" % (s + 1)) for s in range(first, last + 1)]
if got[:len(want)] != want or len(got) != len(want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit("message %d: got %r, want %r" % (i, g, w))
    sys.exit("%d messages, want %d" % (len(got), len(want)))
PYEOF
}
for spec in "before 0 2149 sse" "during -1 2149 sse" \
    "resume 21 2149 sse" "nd 50 2149 ndjson"; do
	set -- $spec
	if out=$(exact "$T/$1" "$2" "$3" "$4" 2>&1); then
		pass "$1: seq ${2/#-1/(oldest)}..$3 each exactly once, in order"
	else
		fail "$1: $out"
	fi
done
# The lapped client: in order from seq 50, one gap whose count is exact,
# no overrun, nothing twice, up to 2149.
if out=$("$PY" - "$T/lapped" <<'PYEOF' 2>&1
import sys
expect, gaps = 50, 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "msg":
        if int(w[1]) != expect:
            sys.exit("seq %s where %d was due" % (w[1], expect))
        expect += 1
    elif w[0] == "gap":
        if int(w[2]) - int(w[1]) != expect:
            sys.exit("gap %s %s where %d was due" % (w[1], w[2], expect))
        expect, gaps = int(w[2]), gaps + 1
    elif w[0] != "connected":
        sys.exit("unexpected: " + line.strip())
if gaps < 1 or expect != 2150:
    sys.exit("%d gaps, ended before %d" % (gaps, expect))
print("gaps: " + " ".join(l.strip() for l in open(sys.argv[1])
    if l.startswith("gap")))
PYEOF
); then
	pass "lapped: exact $out, then every message up to 2149"
else
	fail "lapped: $out"
fi
if grep -q 'stalled mid-update' "$T/bridge.err" &&
    grep -q 'header readable again' "$T/bridge.err"; then
	pass "ringbridge logged the stall and its end"
else
	fail "ringbridge's log: $(cat "$T/bridge.err")"
fi
if grep -l -E 'Sanitizer|runtime error' "$T"/*.err; then
	cat "$T"/*.err
	fail "sanitizer report"
fi
finish
