#!/bin/bash
# relay_retention.sh - a mirror too slow for the stream's retention: the
# runs removed before it read them reach its readers as overruns with the
# exact count, and everything else arrives intact (issue 15).
. "$(dirname "$0")/relay_lib.sh"

two_hosts

# The readers stop at the end of stream once the feed is over (done).
followers
# Small stream messages, at most 20 of them kept.
spawn A "$BIN/ringrelay" push $RING --nats "$URL" --max-msgs 20 \
    --batch 4K 2>>"$T/push.log"
spawn B "$BIN/ringrelay" pull $RING --nats "$URL" 2>>"$T/pull.log"
PULL=$!
gen r 30000 15000 "$T/go" | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
# The mirror must hold the start of the feed before it is slowed down
# (else it joins the stream late, and a late joiner has lost nothing).
for _ in $(seq 300); do
	[ "$(grep -c '^M' "$T/B.out")" -ge 10 ] && break
	sleep 0.1
done
touch "$T/go"
sleep 0.3
# Slow: stopped while the stream moves on, then let go.
kill -STOP $PULL
sleep 2.5
kill -CONT $PULL
check "the feed ran to its end" job_done $GEN 60
touch "$T/done"
check "origin reader finished" job_done $RA 60
check "mirror reader finished" job_done $RB 60
LOST=$(awk '$1 == "L" { n += $3 } END { print n + 0 }' "$T/B.out")
check "the slow mirror lost messages to retention ($LOST)" [ "$LOST" -gt 0 ]
check "every loss announced with its exact count, the rest intact" \
    $PY tests/relay_check.py "$T/A.out" "$T/B.out" --lost "$LOST" \
    --restarts 0 --min 1000
D=$(grep -c '^M' "$T/B.out")
check "delivered $D + lost $LOST = 30000" [ $((D + LOST)) = 30000 ]
relay_finish
