#!/bin/bash
# security_reader.sh: each claim of docs/SECURITY.md about a hostile
# reader, tried by a reader running as ANOTHER user (nobody) that has
# read permission on a 0644 ring and nothing else. Root only (the test
# switches users with setpriv); exit 77 otherwise.
#
#	HOSTILE=path/to/hostile RINGCTL=path/to/ringctl bash security_reader.sh
#
# SECURITY_ISSUE12 lists the issue-12 items whose checks must pass (4: a
# reader cannot keep a dead producer alive; 5: a reader cannot rewrite
# the next epoch, and a hostile sleeper flag costs the producer < 20 %).
# An item not listed is still tried and its outcome printed as "known".
set -u
. "$(dirname "$0")/lib.sh"
HOSTILE=${HOSTILE:-build/tests/hostile}
RINGCTL=${RINGCTL:-build/bin/ringctl}
ISSUES=",${SECURITY_ISSUE12:-},"
[ "$(id -u)" = 0 ] || skip "needs root"
command -v setpriv >/dev/null || skip "no setpriv"
AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
NAME="secrd-$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	"$RINGCTL" rm "$NAME" >/dev/null 2>&1
	ring_rm "$NAME"
	rm -f "$tmp".*
}
tmp=$(mktemp -u /tmp/secrd.XXXXXX)
trap cleanup EXIT

# verdict ITEM OK MESSAGE: an issue-12 item's check fails only if enabled.
verdict() {
	if [ "$2" = 1 ]; then pass "$3"
	elif [[ $ISSUES == *",$1,"* ]]; then fail "$3"
	else echo "known (issue 12 item $1, not enabled): FAILS: $3"; fi
}

# Start a producer; sets PPID_ and EPOCH (empty and status 1 if refused).
start_producer() {
	rm -f "$tmp.prod"
	"$HOSTILE" produce "$NAME" > "$tmp.prod" 2> "$tmp.prod.err" &
	PPID_=$!
	pids+=("$PPID_")
	for _ in $(seq 100); do
		grep -q '^epoch' "$tmp.prod" 2>/dev/null && break
		sleep 0.05
	done
	EPOCH=$(awk '/^epoch/ {print $2}' "$tmp.prod")
	[ -n "$EPOCH" ] || { sed 's/^/  /' "$tmp.prod.err"; return 1; }
}

# 0. The hostile user can read the ring (else nothing below means much).
start_producer || { echo "FAIL: setup"; exit 1; }
if $AS "$RINGCTL" info "$NAME" > "$tmp.info" 2>&1; then
	pass "nobody reads the 0644 ring (epoch $EPOCH)"
else
	cat "$tmp.info"; fail "nobody cannot read the ring"; exit 1
fi

# 1. It cannot write the ring: open, mmap, mprotect, truncate, store.
if $AS "$HOSTILE" write "$NAME" > "$tmp.w" 2>&1; then
	pass "the ring cannot be written: $(paste -sd';' "$tmp.w")"
else
	cat "$tmp.w"; fail "a reader could write the ring"
fi

# 2. It cannot make a dead producer look alive or block a takeover
# (issue 12 item 4).
$AS "$HOSTILE" lock "$NAME" 4000 > "$tmp.lock" 2>&1 &
lockpid=$!
pids+=("$lockpid")
sleep 0.3
kill -9 "$PPID_"; wait "$PPID_" 2>/dev/null
sleep 0.2	# the reader's lock is granted once the producer's is gone
"$RINGCTL" info "$NAME" > "$tmp.info" 2>&1
echo "  reader: $(cat "$tmp.lock"); ringctl info after kill -9: $(grep -i \
    'alive\|dead\|producer' "$tmp.info" | head -1)"
alive_ok=1
grep -qi 'producer.*alive\|alive.*yes' "$tmp.info" && \
    ! grep -qi 'not alive\|dead' "$tmp.info" && alive_ok=0
verdict 4 "$alive_ok" "a reader's lock does not keep a killed producer alive"
old=$EPOCH
t0=$(date +%s%N)
start_producer
t1=$(( ($(date +%s%N) - t0) / 1000000 ))
took=0
[ -n "$EPOCH" ] && [ "$EPOCH" -gt "$old" ] && [ "$t1" -lt 2000 ] && took=1
verdict 4 "$took" "a new producer takes over at once under a reader's lock ($t1 ms, epoch $old -> ${EPOCH:-refused})"
wait "$lockpid"
if [ -z "$EPOCH" ]; then
	# Refused while the reader held its lock: once it let go.
	start_producer || { echo "FAIL: setup"; exit 1; }
fi

# 3. It cannot rewrite the next producer's epoch (issue 12 items 2, 5):
# epochs are creation times in microseconds, kept nowhere a reader can
# write; a larger one than before, below 2^53.
$AS "$HOSTILE" epoch "$NAME" 18446744073709551000 > "$tmp.ep" 2>&1
kill -9 "$PPID_"; wait "$PPID_" 2>/dev/null
old=$EPOCH
start_producer || { echo "FAIL: setup"; exit 1; }
ok=0; [ "$EPOCH" -gt "$old" ] && [ "$EPOCH" -lt 9007199254740992 ] && ok=1
verdict 2 "$ok" "the next epoch is newer than $old whatever a reader writes (reader: $(cat "$tmp.ep"); got $EPOCH)"
kill "$PPID_"; wait "$PPID_" 2>/dev/null
"$RINGCTL" rm "$NAME" >/dev/null 2>&1
rm -f /dev/shm/shmring."$NAME" /dev/shm/shmring-wait."$NAME"

# 4. A hostile sleeper flag costs the producer a bounded amount: publish
# rate with the flag held set >= 0.8 x the rate without (issue 12 item 5),
# per second of the producer's CPU time: on loaded cores the hostile
# spinner also takes CPU time from the producer, which is not the flag's
# cost (the wall-clock rates are printed beside it).
rate() {	# rate HOSTILE?: prints "CPU-RATE WALL-RATE" in messages/s
	rm -f "$tmp.rate"
	"$HOSTILE" rate "$NAME" 300 1500 > "$tmp.rate" 2>&1 &
	local rp=$!
	pids+=("$rp")
	if [ "$1" = 1 ]; then
		for _ in $(seq 100); do
			grep -q ready "$tmp.rate" && break; sleep 0.02
		done
		$AS "$HOSTILE" sleepers "$NAME" 2200 > "$tmp.sl" 2>&1 &
		pids+=($!)
	fi
	wait "$rp"
	[ "$1" = 1 ] && wait "${pids[-1]}"
	awk '/^rate/ {print $4, $2}' "$tmp.rate"
}
best0=0; best1=0; wall0=0; wall1=0
for _ in 1 2 3; do	# best of three: other jobs share these cores
	read -r r w <<< "$(rate 0)"
	[ "${r:-0}" -gt "$best0" ] && best0=$r wall0=$w
	read -r r w <<< "$(rate 1)"
	[ "${r:-0}" -gt "$best1" ] && best1=$r wall1=$w
done
ok=0; [ $((best1 * 10)) -ge $((best0 * 8)) ] && ok=1
# And the bound itself, which load cannot blur: at most one wake-up per
# 50 us (libshm/wait.c) while the flag is held, plus a few for entering
# and leaving rationing (the last run's count; load only lowers it).
read -r wakes wms <<< "$(awk '/^wakes/ {print $2, $4}' "$tmp.sl")"
if [ -z "${wakes:-}" ] || [ "$wakes" -gt $(( ${wms:-0} * 20 + 20 )) ]; then
	ok=0
fi
verdict 5 "$ok" "hostile sleeper flag: ${wakes:-?} wake-ups in ${wms:-?} ms (bound: one per 50 us); $best1 msg per CPU-second vs $best0 without ($(awk -v a="$best1" -v b="$best0" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x; wall clock: $wall1 vs $wall0 msg/s; reader: $(head -1 "$tmp.sl"))"

# 5. A reader that keeps the sleeper flag cleared (so the producer wakes
# nobody) delays other readers' wake-ups by at most their re-check slice
# (100 ms in libshm): measured as the publish-to-delivery latency of a
# blocking reader (root) while nobody clears the flag.
lat() {		# lat 0|clear|sleepers: prints "MAX AVG" in ms
	rm -f "$tmp.ticks"
	"$HOSTILE" ticks "$NAME" 3000 > "$tmp.ticks" 2>&1 &
	local tp=$!
	pids+=("$tp")
	for _ in $(seq 100); do
		grep -q ready "$tmp.ticks" && break; sleep 0.02
	done
	if [ "$1" != 0 ]; then
		$AS "$HOSTILE" "$1" "$NAME" 3000 > "$tmp.$1" 2>&1 &
		pids+=($!)
	fi
	"$HOSTILE" latency "$NAME" 2500 > "$tmp.lat" 2>&1
	wait "$tp"
	[ "$1" != 0 ] && wait "${pids[-1]}"
	awk '/^latency/ {print $3, $6}' "$tmp.lat"
}
read -r m0 a0 <<< "$(lat 0)"
read -r m1 a1 <<< "$(lat clear)"
# Slice-bounded: on average at most a slice more, at worst a slice plus
# scheduling noise (this may share loaded cores); unbounded would be
# the probe's own 2 s timeout.
ok=$(awk -v m0="${m0:-0}" -v a0="${a0:-0}" -v m1="${m1:-9999}" \
    -v a1="${a1:-9999}" 'BEGIN { print (a1 <= a0 + 100 && m1 <= m0 + 1000) ? 1 : 0 }')
if [ "$ok" = 1 ]; then
	pass "a reader clearing the sleeper flag delays others' wake-ups by the 100 ms re-check slice at most: max ${m1} ms, avg ${a1} ms (without: max ${m0} ms, avg ${a0} ms; reader: $(head -1 "$tmp.clear"))"
else
	fail "wake-up latency under a hostile flag clearer: max ${m1:-none} ms avg ${a1:-none} ms (without: max ${m0} ms avg ${a0} ms)"
fi

# 6. A reader holding the sleeper flag set makes the producer ration its
# wake-ups (libshm/wait.c): a wake-up put off must still reach a sleeping
# reader within the rationed slice (0.2 ms) when the producer then idles.
# The ticks come in bursts of three, so the last one's wake-up is the one
# put off. A lost wake-up would show as the 100 ms slice on average; the
# margin is a quarter of that, for loaded cores (7.8 ms seen at load 27).
read -r m2 a2 <<< "$(lat sleepers)"
ok=$(awk -v a0="${a0:-0}" -v a2="${a2:-9999}" \
    'BEGIN { print (a2 <= a0 + 25) ? 1 : 0 }')
verdict 5 "$ok" "a reader holding the sleeper flag set delays others' wake-ups by the rationed slice at most: max ${m2:-none} ms, avg ${a2:-none} ms (without: max ${m0} ms, avg ${a0} ms; reader: $(head -1 "$tmp.sleepers" 2>/dev/null))"

finish
