#!/bin/bash
# bridge_lifecycle.sh - what a browser's EventSource sees when the ring it
# follows is removed (tests/bridge_lifecycle.mjs): ringd on a demo feed,
# ringbridge on a free port, headless Chromium. Exit 77 (skipped) without
# chromium, node or playwright-core (installed into $NODE_DIR on first
# use, as tests/bridge_dashboard.sh does).
#
# Environment: RINGD, RINGBRIDGE (binaries), NODE_DIR, CHROMIUM.
set -u
: "${RINGD:?set RINGD to the ringd binary}"
: "${RINGBRIDGE:?set RINGBRIDGE to the ringbridge binary}"
NODE_DIR=${NODE_DIR:-build/node}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM"
command -v node >/dev/null || skip "no node"
mkdir -p "$NODE_DIR"
NODE_DIR=$(cd "$NODE_DIR" && pwd)
PW=$NODE_DIR/node_modules/playwright-core/index.mjs
if [ ! -f "$PW" ]; then
	command -v npm >/dev/null || skip "no npm to install playwright-core"
	[ -f "$NODE_DIR/package.json" ] || echo '{"private":true}' \
	    > "$NODE_DIR/package.json"
	(cd "$NODE_DIR" && npm install --no-audit --no-fund --silent \
	    playwright-core) >&2 || skip "npm install playwright-core failed"
	[ -f "$PW" ] || skip "playwright-core has no $PW"
fi

RING=life-$$
T=$(mktemp -d)
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -f /dev/shm/shmring."$RING" /dev/shm/shmring-wait."$RING"
	rm -rf "$T"
}
trap cleanup EXIT

"$RINGD" -q --demo ticks -r 50 -s 64K "$RING" 2> "$T/ringd.err" &
RINGD_PID=$!
PIDS="$PIDS $RINGD_PID"
"$RINGBRIDGE" -l 127.0.0.1:0 -r "$RING" > "$T/bridge.out" \
    2> "$T/bridge.err" &
PIDS="$PIDS $!"
for _ in $(seq 100); do
	grep -q '^ringbridge: listening on' "$T/bridge.out" && break
	sleep 0.1
done
PORT=$(sed -n 's|^ringbridge: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' \
    "$T/bridge.out")
[ -n "$PORT" ] || { cat "$T"/*; echo "FAIL - no ready line"; exit 1; }
mkdir -p "$T/profile"
BASE=http://127.0.0.1:$PORT RING=$RING RINGD_PID=$RINGD_PID \
    PROFILE=$T/profile PLAYWRIGHT=$PW CHROMIUM=$CHROMIUM \
    node "$(dirname "$0")/bridge_lifecycle.mjs"
rc=$?
if grep -l -E 'Sanitizer|runtime error' "$T"/*.err; then
	cat "$T"/*.err
	echo "FAIL - sanitizer report"
	exit 1
fi
[ $rc -eq 0 ] || cat "$T/bridge.err"
exit $rc
