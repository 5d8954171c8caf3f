#!/bin/bash
# relay_hosts.sh - two simulated hosts relayed through nats-server: the
# origin and the mirror deliver the same ids and bytes across a relay
# killed with -9, a mirror killed with -9 and an origin ringd restart
# (issue 15). See relay_lib.sh.
. "$(dirname "$0")/relay_lib.sh"

two_hosts

# The followers stop at the end of stream once the feed is over (done).
followers
spawn A "$BIN/ringrelay" push $RING --nats "$URL" 2>>"$T/push.log"
PUSH=$!
spawn B "$BIN/ringrelay" pull $RING --nats "$URL" 2>>"$T/pull.log"
PULL=$!

gen e1 60000 20000 | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
# Killed mid-stream: once each has started relaying (a loaded machine
# may take longer than the sleeps to get them there).
log_has "$T/push.log" "starts at" 30
sleep 1
kill -9 $PUSH
sleep 0.3
spawn A "$BIN/ringrelay" push $RING --nats "$URL" 2>>"$T/push.log"
PUSH=$!
log_has "$T/pull.log" "created at" 30
sleep 1
kill -9 $PULL
sleep 0.3
spawn B "$BIN/ringrelay" pull $RING --nats "$URL" 2>>"$T/pull.log"
PULL=$!
check "first ringd ran to the end" job_done $GEN 60

# The origin restarts: a new producer, a new epoch, on both hosts.
gen e2 20000 20000 "$T/go" | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
# Once the mirror has the new epoch, follow it on both hosts: when the
# origin's producer closes the ring, both followers see the end of stream
# (ringctl tail -f exits 0) after the same messages.
for _ in $(seq 300); do
	grep -q '^R' "$T/B.out" && break
	sleep 0.1
done
spawn A "$BIN/ringctl" tail -f --from oldest $RING >"$T/A.tail" \
    2>"$T/tailA.log"
TA=$!
spawn B "$BIN/ringctl" tail -f --from oldest $RING >"$T/B.tail" \
    2>"$T/tailB.log"
TB=$!
touch "$T/go"
check "second ringd ran to the end" job_done $GEN 60
touch "$T/done"
check "tail -f on the origin ends with the origin's end of stream" \
    job_done $TA 10
check "tail -f on the mirror ends with the origin's end of stream" \
    job_done $TB 20
check "both followers printed the same $(wc -l <"$T/A.tail") messages" \
    cmp -s "$T/A.tail" "$T/B.tail"
EB0=$(on B "$BIN/ringctl" info --json $RING)
check "the mirror is closed as the origin is" \
    grep -q '"state": *"closed"' <<<"$EB0"
# A pull restarted after the end changes nothing: the mirror stays
# closed, same epoch, no message twice.
kill -9 $PULL
spawn B "$BIN/ringrelay" pull $RING --nats "$URL" 2>>"$T/pull.log"
PULL=$!
sleep 1.5
on B "$BIN/ringctl" tail --from oldest $RING >"$T/B2.tail" 2>>"$T/tailB.log"
check "a pull restarted after the end leaves the closed mirror as it was" \
    cmp -s "$T/A.tail" "$T/B2.tail"
check "origin reader finished" job_done $RA 60
check "mirror reader finished" job_done $RB 60

check "same ids and bytes on both hosts, no duplicate, no loss, one restart" \
    $PY tests/relay_check.py "$T/A.out" "$T/B.out" --lost 0 \
    --restarts 1 --min 80000
on B "$BIN/ringctl" info $RING >"$T/info.txt" 2>&1
check "ringctl info on the mirror says what it mirrors" \
    grep -q "mirror of nats://127.0.0.1:$NATS_one_PORT stream SHMRING_feed, 0 behind" "$T/info.txt"
EA=$(on A "$BIN/ringctl" info --json $RING | json_key epoch)
EB=$(on B "$BIN/ringctl" info --json $RING | json_key epoch)
check "the mirror has the origin's epoch ($EA)" [ "$EA" = "$EB" ]
check "relay restarts resumed after the stream's last message" \
    grep -q "resuming epoch" "$T/push.log"
check "the restarted pull adopted the mirror" grep -q "adopted" "$T/pull.log"
relay_finish
