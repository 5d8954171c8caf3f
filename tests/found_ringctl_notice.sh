#!/bin/bash
# found_ringctl_notice.sh: `ringctl tail -f NAME 2>&1` never prints a notice
# inside a message line. The exactness soak (tests/exact.c, seed
# 34798128079362) found "ring was created again" written to stderr while
# the end of the previous message was still in stdout's buffer: the
# merged output had a message line cut in two around the notice.
#
#	RINGCTL=... FEED=... bash found_ringctl_notice.sh
set -u
: "${RINGCTL:?}" "${FEED:?}"
T=$(mktemp -d)
name="fnotice-$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f /dev/shm/shmring."$name" /dev/shm/shmring-wait."$name"
	rm -rf "$T"
}
trap cleanup EXIT

# A closed ring of 1000 x 1000-byte messages, then removed by its
# producer (it stays mapped for readers that opened it).
mkfifo "$T/cmd1" "$T/out"
"$FEED" "$name" 4194304 < "$T/cmd1" > "$T/feed1" 2>&1 &
pids+=($!)
exec 4> "$T/cmd1"
echo "n 1000 1000" >&4
# "ok" once created, "ok ..." once the messages are in.
for _ in $(seq 100); do
	[ "$(grep -c '^ok' "$T/feed1" 2>/dev/null)" -ge 2 ] && break
	sleep 0.05
done
# ringctl writes into a FIFO nobody reads yet: it blocks with 64 KiB
# written and the rest of the ring to go.
exec 3<> "$T/out"
"$RINGCTL" tail -f --from oldest "$name" > "$T/out" 2>&1 &
pids+=($!)
sleep 0.5
echo unlink >&4
exec 4>&-
sleep 0.3
# The name now refers to a new ring, which ringctl reaches after EOF.
mkfifo "$T/cmd2"
"$FEED" "$name" 65536 < "$T/cmd2" > "$T/feed2" 2>&1 &
pids+=($!)
exec 5> "$T/cmd2"
echo "pub after" >&5
for _ in $(seq 100); do
	[ "$(grep -c '^ok' "$T/feed2" 2>/dev/null)" -ge 2 ] && break
	sleep 0.05
done
timeout 3 cat <&3 > "$T/got"
bad=$(awk -F'\t' '
	/^ringctl: / { notes++; next }
	$1 ~ /^[0-9]+$/ && (length($2) == 1000 || $2 == "after") { next }
	{ bad++; if (bad == 1) print "  bad line " NR ": " substr($0, 1, 80) > "/dev/stderr" }
	END { print bad + 0 }' "$T/got" 2> "$T/err")
lines=$(wc -l < "$T/got")
cat "$T/err"
if [ "$bad" = 0 ] && grep -q 'created again' "$T/got" && grep -q 'after$' "$T/got"; then
	echo "found_ringctl_notice: ok ($lines lines, notices on lines of their own)"
	exit 0
fi
echo "found_ringctl_notice: FAILED: $bad malformed of $lines lines"
grep -n 'ringctl: ' "$T/got" | cut -c1-120
exit 1
