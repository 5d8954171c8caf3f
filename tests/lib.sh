# lib.sh - what every test script shares (bash, sourced first): counting
# results, polling, sanitizer reports, the summary line, paths, ports and
# ring files. Topic helpers live beside it and source it: ringctl_lib.sh
# (ringctl and the scriptable feed), relay_lib.sh (simulated hosts and
# NATS), browser_lib.sh (headless Chromium), docs/examples/lib.sh.
#
# A script counts with pass/fail/check, waits with until_ok/wait_for/
# wait_exit, and ends with `finish FILE...`, whose summary is the line
# make prints; skip ends it early with exit 77 (make: skipped).

# A sanitizer report must never pass as an expected "exit 1".
export ASAN_OPTIONS="exitcode=99${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="exitcode=99${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
NPASS=0
NFAIL=0

pass() { NPASS=$((NPASS + 1)); echo "ok - $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL - $*"; }

# check DESC COMMAND...: pass when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# skip REASON: the whole script is skipped.
skip() { echo "SKIP: $(basename "$0"): $*"; exit 77; }

# until_ok DESC COMMAND...: poll every 20 ms until the command succeeds,
# for up to UNTIL_OK_SECONDS (30); a timeout is a failure of DESC.
until_ok() {
	local what=$1 i
	shift
	for ((i = 0; i < ${UNTIL_OK_SECONDS:-30} * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	fail "timed out waiting for: $what"
	return 1
}

# wait_for FILE STRING: until FILE contains STRING, for up to
# WAIT_FOR_SECONDS (30); 1 if it never does.
wait_for() {
	local i
	for ((i = 0; i < ${WAIT_FOR_SECONDS:-30} * 20; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# timed out waiting for '$2' in $(basename "$1")"
	return 1
}

# wait_exit PID SECONDS: wait for a background child to exit; its status
# goes to WAIT_STATUS (124 and a SIGKILL if it outlives SECONDS).
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		WAIT_STATUS=124
		return
	fi
	wait "$1"
	WAIT_STATUS=$?
}

# sanitizer_clean FILE...: no ASan/UBSan/TSan report in any of the files
# (missing files are fine).
sanitizer_clean() {
	! grep -qsE 'Sanitizer|runtime error' "$@"
}

# finish FILE...: fail for each of the files holding a sanitizer report,
# print "# SCRIPT: N passed, M failed", return 0 only if none failed.
finish() {
	local f
	for f in "$@"; do
		[ -f "$f" ] && ! sanitizer_clean "$f" &&
		    fail "sanitizer report in $(basename "$f")"
	done
	echo "# $(basename "$0"): $NPASS passed, $NFAIL failed"
	[ "$NFAIL" -eq 0 ]
}

# abs PATH: PATH made absolute (its directory must exist).
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json_key KEY: one top-level field of the JSON document on stdin
# (nothing, and status 1, if it does not parse or lacks KEY).
json_key() {
	python3 -c 'import json, sys
try:
    print(json.load(sys.stdin)[sys.argv[1]])
except (ValueError, KeyError):
    sys.exit(1)' "$1"
}

# ring_up NAME: ringctl ($RINGCTL) can read the ring's header.
ring_up() { "$RINGCTL" info "$1" >/dev/null 2>&1; }

# ring_epoch NAME: the ring's epoch (its creation time in microseconds),
# as ringctl --json info gives it; empty if the ring cannot be read.
ring_epoch() { "$RINGCTL" --json info "$1" 2>/dev/null | json_key epoch; }

# ring_rm NAME...: remove the rings' files (ring, wait and lock objects)
# whoever owns them, for cleanup; NAME may be a glob ("$PFX*").
ring_rm() {
	local n
	for n in "$@"; do
		rm -f /dev/shm/shmring.$n /dev/shm/shmring-wait.$n \
		    /dev/shm/shmring-lock.$n
	done
}
