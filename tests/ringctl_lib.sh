# ringctl_lib.sh - helpers for the ringctl shell tests (sourced, after
# tests/lib.sh, which it sources).
#
# Environment: RINGCTL (the binary under test), FEED (tests/ringctl_feed).
# Every ring a test makes is named "$PFX..." so the EXIT trap can remove
# exactly those; producers are killed by the PIDs recorded here.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${RINGCTL:?set RINGCTL to the ringctl binary}"
: "${FEED:?set FEED to the ringctl_feed binary}"
RINGCTL=$(abs "$RINGCTL")
FEED=$(abs "$FEED")
PFX="rctl-$(basename "$0" .sh)-$$-"
T=$(mktemp -d)
declare -A FEED_PID FEED_W FEED_R

cleanup() {
	local id
	for id in "${!FEED_PID[@]}"; do
		kill "${FEED_PID[$id]}" 2>/dev/null
	done
	wait 2>/dev/null
	ring_rm "$PFX*"
	rm -rf "$T"
}
trap cleanup EXIT


# rc WANT DESC ringctl-args...: run ringctl, keep $T/out and $T/err.
rc() {
	local want=$1 desc=$2 got
	shift 2
	timeout 60 "$RINGCTL" "$@" >"$T/out" 2>"$T/err"
	got=$?
	if ! sanitizer_clean "$T/err"; then
		fail "$desc: sanitizer report: ringctl $*"
		sed 's/^/#   stderr: /' "$T/err" | head -20
	elif [ "$got" -eq "$want" ]; then
		pass "$desc (exit $got)"
	else
		fail "$desc: exit $got, want $want: ringctl $*"
		sed 's/^/#   stderr: /' "$T/err" | head -5
		sed 's/^/#   stdout: /' "$T/out" | head -5
	fi
}

# contains FILE STRING DESC
contains() {
	if grep -qF -- "$2" "$1"; then
		pass "$3"
	else
		fail "$3: '$2' not in $(basename "$1")"
		sed 's/^/#   /' "$1" | head -5
	fi
}

# pycheck DESC FILE PYTHON-EXPR...: the Python code sees the file's text
# as `s`, its JSON as `j` (when it parses) and its lines as `lines`; it
# must assert what it wants.
pycheck() {
	local desc=$1 file=$2 code=$3
	if python3 - "$file" >"$T/py.err" 2>&1 <<PYEOF
import json, sys
s = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read()
# not splitlines(): it also splits at U+0085 and U+2028
lines = s.split('\n')
if lines and lines[-1] == '':
    lines.pop()
try:
    j = json.loads(s)
except ValueError:
    j = None
$code
PYEOF
	then
		pass "$desc"
	else
		fail "$desc"
		sed 's/^/#   /' "$T/py.err" | tail -5
		head -5 "$file" | cut -c1-300 | sed 's/^/#   file: /'
	fi
}

# json_field FILE KEY: one top-level field of a JSON document (0 if none).
json_field() { json_key "$2" <"$1" 2>/dev/null || echo 0; }

# feed_start ID NAME [CAPACITY [MAX_MSG]]: a producer driven through FIFOs.
feed_start() {
	local id=$1 w r line
	shift
	mkfifo "$T/feed-$id.in" "$T/feed-$id.out"
	"$FEED" "$@" <"$T/feed-$id.in" >"$T/feed-$id.out" &
	FEED_PID[$id]=$!
	exec {w}>"$T/feed-$id.in"
	exec {r}<"$T/feed-$id.out"
	FEED_W[$id]=$w
	FEED_R[$id]=$r
	if ! read -r -t 30 line <&"$r" || [ "$line" != ok ]; then
		fail "feed $id: start $*: ${line:-no answer}"
		return 1
	fi
}

# feed ID COMMAND: one command, wait for its answer (in $FEED_REPLY).
feed() {
	local id=$1
	FEED_REPLY=
	echo "$2" >&"${FEED_W[$id]}"
	if ! read -r -t 60 FEED_REPLY <&"${FEED_R[$id]}" ||
	    [ "${FEED_REPLY%% *}" != ok ]; then
		fail "feed $id: $2: ${FEED_REPLY:-no answer}"
		return 1
	fi
	case $2 in
	close|unlink|die)
		wait "${FEED_PID[$id]}" 2>/dev/null
		local w=${FEED_W[$id]} r=${FEED_R[$id]}
		exec {w}>&- {r}<&-
		unset "FEED_PID[$id]"
		rm -f "$T/feed-$id.in" "$T/feed-$id.out"
		;;
	esac
}

# feed_send ID COMMAND / feed_recv ID: a command answered later ("spin").
feed_send() {
	echo "$2" >&"${FEED_W[$1]}"
}
feed_recv() {
	FEED_REPLY=
	if ! read -r -t 60 FEED_REPLY <&"${FEED_R[$1]}" ||
	    [ "${FEED_REPLY%% *}" != ok ]; then
		fail "feed $1: ${FEED_REPLY:-no answer}"
		return 1
	fi
}


# shm_write NAME PYTHON: create /dev/shm/shmring.NAME (mode 0600) with the
# bytes the Python code leaves in `data`.
shm_write() {
	python3 - "/dev/shm/shmring.$1" <<PYEOF
import os, sys
$2
fd = os.open(sys.argv[1], os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
os.fchmod(fd, 0o600)
os.write(fd, bytes(data))
os.close(fd)
PYEOF
}

