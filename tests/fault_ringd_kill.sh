#!/bin/bash
# fault_ringd_kill.sh - ringd killed with SIGKILL and restarted while
# `ringctl tail -f` follows its ring: tail reports the dead producer and
# the restart on stderr and keeps printing the new producer's messages.
#	RINGD=build/bin/ringd RINGCTL=build/bin/ringctl \
#	    bash tests/fault_ringd_kill.sh
# Nothing here depends on timing: every wait polls for an outcome, with a
# generous deadline only to fail instead of hanging.
set -u
. "$(dirname "$0")/lib.sh"
RINGD=${RINGD:-build/bin/ringd}
RINGCTL=${RINGCTL:-build/bin/ringctl}
KILLS=${FAULT_RINGD_KILLS:-3}
name=fault-ringd-$$
tmp=$(mktemp -d)
ringd_pid= tail_pid=

cleanup() {
	[ -n "$ringd_pid" ] && kill -9 "$ringd_pid" 2>/dev/null
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	wait 2>/dev/null
	ring_rm "$name"
	rm -rf "$tmp"
}
trap cleanup EXIT

# Any failure (until_ok's timeouts too) ends the script, with the logs.
fail() {
	echo "fault_ringd_kill: FAIL: $*"
	echo "--- ringctl tail stderr:"; cat "$tmp/err"
	echo "--- ringd stderr:"; cat "$tmp"/ringd*.err 2>/dev/null
	exit 1
}

lines() { wc -l < "$tmp/out"; }
lines_ge() { [ "$(lines)" -ge "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
logs_clean() { sanitizer_clean "$tmp/err" "$tmp"/ringd*.err; }

start_ringd() {
	"$RINGD" --demo ticks -r 2000 "$name" 2>"$tmp/ringd$1.err" &
	ringd_pid=$!
}

: >"$tmp/out"
: >"$tmp/err"
# epoch_moved: the ring's epoch (its creation time in microseconds) is no
# longer $epoch; sets epoch to the new one.
epoch=
epoch_moved() {
	local e
	e=$(ring_epoch "$name")
	[ -n "$e" ] && [ "$e" != "$epoch" ] && epoch=$e
}

start_ringd 0
until_ok "ring $name to appear" ring_up "$name"
until_ok "its epoch" epoch_moved
"$RINGCTL" tail -f --from oldest "$name" >"$tmp/out" 2>"$tmp/err" &
tail_pid=$!
until_ok "first messages" lines_ge 10

for ((k = 1; k <= KILLS; k++)); do
	dead=$ringd_pid
	kill -9 "$dead"
	wait "$dead" 2>/dev/null
	until_ok "tail to report producer $dead dead" \
	    err_has "producer (pid $dead) died"
	kill -0 "$tail_pid" 2>/dev/null || fail "tail exited after the kill"
	n=$(lines)
	start_ringd "$k"
	until_ok "a new epoch" epoch_moved
	until_ok "tail to report the restart (epoch $epoch)" \
	    err_has "producer restarted the ring (epoch $epoch)"
	until_ok "messages from the new producer" lines_ge $((n + 10))
	kill -0 "$tail_pid" 2>/dev/null || fail "tail exited after restart"
	echo "kill $k: ringd $dead killed; tail saw the death and epoch" \
	    "$((k + 1)); $(lines) lines so far"
done

# Every line is "seq<TAB>{demo JSON}", and each epoch was followed from
# its start: sequence number 0 appears once per producer.
grep -qvE $'^[0-9]+\t[{].*[}]$' "$tmp/out" && fail "garbled output"
starts=$(grep -c $'^0\t' "$tmp/out")
[ "$starts" = $((KILLS + 1)) ] ||
    fail "seq 0 printed $starts times for $((KILLS + 1)) producers"
logs_clean || fail "sanitizer report"
kill "$ringd_pid"
wait "$ringd_pid"
rc=$?
ringd_pid=
[ "$rc" = 0 ] || fail "ringd exited $rc on SIGTERM"
echo "--- tail stderr:"
cat "$tmp/err"
echo "fault_ringd_kill: ok: $KILLS kills of ringd followed, $(lines) lines"
