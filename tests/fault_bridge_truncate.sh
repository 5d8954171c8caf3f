#!/bin/bash
# A ring truncated by its owner under a serving ringbridge: the bridge
# reports it and exits 111 (no core dump, no hang); a restarted bridge
# refuses the truncated ring and keeps serving the others.
set -u
BIN=${BIN:-build/bin}
name=ftrunc-$$
other=ftrunc-ok-$$
pids=
summary="# fault_bridge_truncate.sh: FAILED"
cleanup() {
	exec 2>/dev/null	# no job-control noise after the summary
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	wait
	rm -f /dev/shm/shmring.$name /dev/shm/shmring-wait.$name
	"$BIN/ringctl" rm --force "$other" >/dev/null 2>&1
	rm -f "$log" "$log2"
	echo "$summary"
}
log=$(mktemp); log2=$(mktemp)
trap cleanup EXIT
fail() { echo "fault_bridge_truncate: FAIL: $*"; cat "$log"; exit 1; }
# The ring's own producer also dies of SIGBUS (it writes the lost pages).

# start_bridge LOG: run ringbridge on a free port serving both rings,
# stderr to LOG; sets bpid and port (empty if it did not start).
start_bridge() {
	"$BIN/ringbridge" -l 127.0.0.1:0 -r "$name" -r "$other" 2>"$1" >"$1.out" &
	bpid=$!; pids="$pids $bpid"
	for i in $(seq 50); do grep -q listening "$1.out" 2>/dev/null && break; sleep 0.1; done
	port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1.out" | head -1)
	rm -f "$1.out"
}

"$BIN/ringd" --demo ticks -r 200 -s 64K --keep "$name" 2>/dev/null & pids="$pids $!"
"$BIN/ringd" --demo ticks -r 50 -s 64K "$other" 2>/dev/null & pids="$pids $!"
for i in $(seq 50); do
	[ -e /dev/shm/shmring.$name ] && [ -e /dev/shm/shmring.$other ] && break
	sleep 0.1
done
start_bridge "$log"
[ -n "$port" ] || fail "bridge did not start"
curl -sN "http://127.0.0.1:$port/rings/$name/stream" >/dev/null 2>&1 & pids="$pids $!"
sleep 0.5
# The owner truncates the ring to its header: the data pages are gone.
truncate -s 4096 /dev/shm/shmring.$name
# A caught-up stream does not touch the data area; a new client asking for
# the oldest messages makes the bridge read the lost pages.
curl -s -m 2 "http://127.0.0.1:$port/rings/$name/stream?from=oldest" \
    >/dev/null 2>&1
for i in $(seq 100); do kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
kill -0 $bpid 2>/dev/null && fail "bridge still running after truncation"
wait $bpid; rc=$?
[ $rc = 111 ] || fail "bridge exit status $rc, want 111"
grep -q "ringbridge: bus error reading a ring (SIGBUS: truncated under its mapping by its owner)" "$log" ||
    fail "no clear message"
echo "ok 1 - bridge reports the truncation and exits 111"

# Restarted, it refuses the truncated ring and serves the other one.
start_bridge "$log2"
[ -n "$port" ] || fail "restarted bridge did not start"
body=$(curl -s -m 2 "http://127.0.0.1:$port/rings/$other/stream?from=oldest" | head -c 2000)
echo "$body" | grep -q '^id: ' || fail "other ring not served after restart"
echo "ok 2 - a restarted bridge keeps serving the other ring"
summary="# fault_bridge_truncate.sh: 2 passed, 0 failed"
