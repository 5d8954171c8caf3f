#!/bin/bash
# relay_epochs.sh - the origin's epoch replaced behind the relay's back
# (issue 15): (a) closed and replaced while push is behind (stopped), the
# mirror still gets the old epoch's end; (b) closed and replaced while
# push is down (killed), the mirror gets what push had not relayed of it
# as a loss with the exact count, and its end. See relay_lib.sh.
. "$(dirname "$0")/relay_lib.sh"

two_hosts

# epoch_of HOST: the ring's epoch there.
epoch_of() { on "$1" "$BIN/ringctl" info --json $RING 2>/dev/null |
    json_key epoch; }
# mirror_has EPOCH N: the mirror's reader printed N messages of EPOCH.
mirror_has() {
	for _ in $(seq 300); do
		[ "$(grep -c "^M $1 " "$T/B.out")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# new_epoch HOST OLD: wait until the ring there is another epoch than OLD.
new_epoch() {
	for _ in $(seq 300); do
		e=$(epoch_of "$1")
		[ -n "$e" ] && [ "$e" != "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# The followers stop at the end of stream once the feed is over (done).
followers
spawn A "$BIN/ringrelay" push $RING --nats "$URL" 2>>"$T/push.log"
PUSH=$!
spawn B "$BIN/ringrelay" pull $RING --nats "$URL" 2>>"$T/pull.log"
PULL=$!

# (a) Epoch 1: ten messages reach the mirror, then push stops; the rest
# is written, the ring closed, and a new producer takes the name over
# before push reads on.
gen e1 3000 20000 "$T/go1" | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
until [ -n "$(epoch_of A)" ]; do sleep 0.1; done
E1=$(epoch_of A)
check "the mirror has the first ten messages of epoch 1" mirror_has "$E1" 10
kill -STOP $PUSH
touch "$T/go1"
check "first ringd ran to the end" job_done $GEN 60
gen e2 3000 20000 "$T/go2" | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
check "a second producer took the name over" new_epoch A "$E1"
E2=$(epoch_of A)
kill -CONT $PUSH
check "the mirror has the first ten messages of epoch 2" mirror_has "$E2" 10
check "the mirror's epoch 1 ended where the origin's did (3000)" \
    grep -q "epoch $E1 ended at 3000" "$T/pull.log"

# (b) Epoch 2: push is killed behind; the rest is written, the ring
# closed and replaced while push is down.
kill -STOP $PUSH
touch "$T/go2"
check "second ringd ran to the end" job_done $GEN 60
kill -9 $PUSH
gen e3 2000 20000 | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
check "a third producer took the name over" new_epoch A "$E2"
spawn A "$BIN/ringrelay" push $RING --nats "$URL" 2>>"$T/push.log"
PUSH=$!
check "third ringd ran to the end" job_done $GEN 60
touch "$T/done"
check "origin reader finished" job_done $RA 60
check "mirror reader finished" job_done $RB 60
check "what push never read of epoch 2 is a loss with the exact count" \
    grep -q "^L $E2 2990 3000\$" "$T/B.out"
check "the mirror's epoch 2 ended where the origin's did (3000)" \
    grep -q "epoch $E2 ended at 3000" "$T/pull.log"
check "same ids and bytes on both hosts, the loss announced, two restarts" \
    $PY tests/relay_check.py "$T/A.out" "$T/B.out" --lost 2990 \
    --restarts 2 --min 5000
relay_finish
