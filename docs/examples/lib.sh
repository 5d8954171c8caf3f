# lib.sh - helpers for the docs/examples tests (sourced by test_*.sh).
#
# Environment: BIN (the directory holding ringd and ringbridge). Rings are
# named "$PFX..." so the EXIT trap removes exactly those; ringd and
# ringbridge are killed by the PIDs recorded here. Servers bind 127.0.0.1
# on a port the kernel picks.

set -u
: "${BIN:?set BIN to the directory with ringd and ringbridge}"
BIN=$(cd "$BIN" && pwd)
EX=$(cd "$(dirname "$0")" && pwd)
# pass, fail, check, wait_for, finish: the test scripts' common helpers.
. "$EX/../../tests/lib.sh"
# A ringd or bridge start may take long on a loaded machine.
WAIT_FOR_SECONDS=${WAIT_FOR_SECONDS:-60}
PFX="ex-$(basename "$0" .sh)-$$-"
T=$(mktemp -d)
PIDS=()
RINGD_PID=
BRIDGE_PID=
PORT=

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ring_rm "$PFX*"
	[ -n "${KEEP:-}" ] && echo "# kept $T" || rm -rf "$T"
}
trap cleanup EXIT

# ringd_fifo RING [ringd options]: ringd publishing the lines written to
# fd 7 (a FIFO); closing fd 7 ends its input and closes the ring. Start
# every other background process with 7>&- so that it does not hold it.
ringd_fifo() {
	local ring=$1
	shift
	rm -f "$T/feed"
	mkfifo "$T/feed"
	"$BIN/ringd" --keep "$@" "$ring" <"$T/feed" 2>"$T/ringd.err" &
	RINGD_PID=$!
	PIDS+=("$RINGD_PID")
	exec 7>"$T/feed"
	wait_for "$T/ringd.err" "ready"
	# E: the ring's epoch (its creation time in microseconds), for ids
	E=$(sed -n 's/.* ready (.*epoch \([0-9]*\)).*/\1/p' "$T/ringd.err" |
	    tail -n 1)
}

# ringd_end: close ringd's input and wait until it has published it all.
ringd_end() {
	exec 7>&-
	wait "$RINGD_PID"
}

# bridge_start RING [PORT [OPTION...]]: ringbridge for RING; sets PORT
# and BRIDGE_PID.
bridge_start() {
	local log=$T/bridge.$RANDOM ring=$1 port=${2:-0}
	shift $(($# < 2 ? $# : 2))
	"$BIN/ringbridge" -l "127.0.0.1:$port" -r "$ring" "$@" >"$log" 2>&1 \
	    7>&- &
	BRIDGE_PID=$!
	PIDS+=("$BRIDGE_PID")
	wait_for "$log" "ringbridge: listening on" || return 1
	PORT=$(sed -n 's/^ringbridge: listening on http:.*:\([0-9]*\)$/\1/p' \
	    "$log")
	cat "$log" >>"$T/bridge.err"
}

bridge_stop() {
	kill "$BRIDGE_PID"
	wait "$BRIDGE_PID" 2>/dev/null
}

# seqs FILE: the sequence numbers of the "EPOCH:SEQ DATA" lines, one a line.
seqs() {
	sed -n 's/^[0-9]*:\([0-9]*\) .*/\1/p' "$1"
}

# contiguous FILE FIRST LAST: the messages are exactly FIRST..LAST.
contiguous() {
	seqs "$1" >"$T/got"
	seq "$2" "$3" >"$T/want"
	cmp -s "$T/got" "$T/want" || {
		echo "# $(basename "$1"): not exactly $2..$3:"
		diff "$T/want" "$T/got" | head -5 | sed 's/^/#   /'
		return 1
	}
}

# examples_finish: the summary; a sanitizer report in the daemons'
# output fails the script.
examples_finish() { finish "$T"/*.err "$T"/bridge.*; }
