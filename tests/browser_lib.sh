# browser_lib.sh - sourced by the browser tests (bridge_dashboard.sh,
# bridge_nginx.sh): checks for Debian's chromium and node, installs
# playwright-core from npm into $NODE_DIR on first use (never committed),
# and sets PW to its module path and CHROMIUM to the browser. Exits 77
# (skipped) when one of them is missing. bridge_port reads a bridge's
# ready line. Sources tests/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NODE_DIR=${NODE_DIR:-build/node}
mkdir -p "$NODE_DIR"
NODE_DIR=$(cd "$NODE_DIR" && pwd)

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || skip "no node (apt-get install nodejs)"
PW=$NODE_DIR/node_modules/playwright-core/index.mjs
if [ ! -f "$PW" ]; then
	command -v npm >/dev/null || skip "no npm to install playwright-core"
	echo "# installing playwright-core into $NODE_DIR"
	[ -f "$NODE_DIR/package.json" ] || echo '{"private":true}' \
	    > "$NODE_DIR/package.json"
	# Two browser tests may start at once under make -j: one installs.
	(cd "$NODE_DIR" && flock "$NODE_DIR/.install.lock" sh -c \
	    "[ -f '$PW' ] || npm install --no-audit --no-fund --silent \
	    playwright-core") >&2 || skip "npm install playwright-core failed"
	[ -f "$PW" ] || skip "playwright-core has no $PW"
fi

# The port of a bridge started with -l 127.0.0.1:0 and standard output
# in $1, once its ready line is there (10 s at most); empty without one.
bridge_port() {
	for _ in $(seq 100); do
		grep -q '^ringbridge: listening on' "$1" && break
		sleep 0.1
	done
	sed -n 's|^ringbridge: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$1"
}
