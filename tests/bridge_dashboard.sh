#!/bin/bash
# bridge_dashboard.sh - ringbridge's web dashboard end to end: two demo
# producers (ringd --demo sine and ticks), a bridge on a free port, the
# static files over HTTP (types, ETag, 304, HEAD), then the page itself in
# headless Chromium via playwright-core (tests/bridge_dashboard.mjs),
# which also restarts the bridge and checks that streams resume without
# loss, and replaces the ticks producer (restart and eof events).
# Screenshots go to $OUT (build/tests/).
#
# Environment: RINGD, RINGBRIDGE (binaries), OUT (artefact directory),
# NODE_DIR (where playwright-core is installed when missing), CHROMIUM
# (default /usr/bin/chromium).
# Exit 77 (skipped) without chromium or node/npm.
set -u
: "${RINGD:?set RINGD to the ringd binary}"
: "${RINGBRIDGE:?set RINGBRIDGE to the ringbridge binary}"
OUT=${OUT:-build/tests}
. "$(dirname "$0")/browser_lib.sh"
RINGD=$(abs "$RINGD")
RINGBRIDGE=$(abs "$RINGBRIDGE")
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

SINE=dash-sine-$$
TICKS=dash-ticks-$$
T=$(mktemp -d)
PIDS=

cleanup() {
	local p
	[ -f "$T/bridge.pid" ] && PIDS="$PIDS $(cat "$T/bridge.pid")"
	[ -f "$T/ticks.pid" ] && PIDS="$PIDS $(cat "$T/ticks.pid")"
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -f /dev/shm/shmring."$SINE" /dev/shm/shmring-wait."$SINE" \
	    /dev/shm/shmring."$TICKS" /dev/shm/shmring-wait."$TICKS"
	rm -rf "$T"
}
trap cleanup EXIT


"$RINGD" -q --demo sine -r 200 -s 1M "$SINE" 2>> "$T/ringd.err" &
PIDS="$PIDS $!"
"$RINGD" -q --demo ticks -r 20 -s 1M "$TICKS" 2>> "$T/ringd.err" &
echo $! > "$T/ticks.pid"
"$RINGBRIDGE" -l 127.0.0.1:0 -r "$SINE" -r "$TICKS" > "$T/bridge.out" \
    2> "$T/bridge.err" &
echo $! > "$T/bridge.pid"
PORT=$(bridge_port "$T/bridge.out")
if [ -z "$PORT" ]; then
	cat "$T/bridge.out" "$T/bridge.err"
	echo "FAIL - ringbridge did not print its ready line"
	exit 1
fi
echo "# ringbridge on port $PORT, rings $SINE and $TICKS"
URL=http://127.0.0.1:$PORT

# The static files: content types, caching, HEAD, 304; every script the
# page loads, and every script of bridge/dashboard/ loaded by the page.
hdr() { tr -d '\r' < "$T/h" | sed -n "s/^$1: //Ip" | head -n 1; }
scripts=$(curl -s "$URL/" | sed -n 's|^<script src="\([^"]*\)".*|\1|p')
for f in "$(dirname "$0")"/../bridge/dashboard/*.js; do
	case " $(echo $scripts) " in
	*" /dashboard/${f##*/} "*) pass "the page loads ${f##*/}" ;;
	*) fail "the page does not load ${f##*/}" ;;
	esac
done
for f in /:text/html /dashboard/style.css:text/css \
    $(printf '%s:text/javascript ' $scripts); do
	path=${f%%:*}
	type=${f#*:}
	code=$(curl -s -o "$T/body" -D "$T/h" -w '%{http_code}' "$URL$path")
	[ "$code" = 200 ] && [ -s "$T/body" ] && pass "GET $path 200" ||
	    fail "GET $path answered $code"
	case $(hdr content-type) in
	"$type; charset=utf-8") pass "$path is $type" ;;
	*) fail "$path content type $(hdr content-type)" ;;
	esac
	[ "$(hdr cache-control)" = no-cache ] && pass "$path revalidates" ||
	    fail "$path cache-control $(hdr cache-control)"
	etag=$(hdr etag)
	code=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H "If-None-Match: $etag" "$URL$path")
	[ -n "$etag" ] && [ "$code" = 304 ] && pass "$path 304 for ETag $etag" ||
	    fail "$path If-None-Match $etag answered $code"
	len=$(curl -s -I -o "$T/h" -w '%{size_download}' "$URL$path")
	[ "$(hdr content-length)" = "$(stat -c %s "$T/body")" ] &&
	    [ "$len" = 0 ] && pass "HEAD $path" ||
	    fail "HEAD $path: length $(hdr content-length), body $len"
done
grep -q "connect-src 'self'" < <(curl -s -D - -o /dev/null "$URL/") &&
    pass "the page carries a same-origin CSP" || fail "no CSP on /"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/dashboard/nothing")
[ "$code" = 404 ] && pass "unknown dashboard file 404" ||
    fail "unknown dashboard file answered $code"
if curl -s "$URL/" | grep -Eq '(src|href)="(https?:)?//'; then
	fail "the page refers to another site"
else
	pass "the page refers to no other site"
fi

# The page in Chromium; it restarts the bridge on $PORT once.
mkdir -p "$T/profile"
PORT=$PORT SINE=$SINE TICKS=$TICKS BRIDGE=$RINGBRIDGE RINGD=$RINGD \
    PIDFILE=$T/bridge.pid TICKS_PIDFILE=$T/ticks.pid OUT=$OUT \
    PROFILE=$T/profile PLAYWRIGHT=$PW ERRDIR=$T CHROMIUM=$CHROMIUM \
    node "$(dirname "$0")/bridge_dashboard.mjs" || NFAIL=$((NFAIL + 1))
[ -f "$OUT/bridge_dashboard.png" ] &&
    pass "screenshot $OUT/bridge_dashboard.png" || fail "no screenshot"
# Sanitizer builds: any report from the daemons fails the test.
if ! sanitizer_clean "$T"/*.err; then
	fail "sanitizer report in the daemons' stderr"
	cat "$T"/*.err
else
	pass "no sanitizer report"
fi

if [ "$NFAIL" -ne 0 ]; then
	echo "--- ringbridge stderr"
	cat "$T"/*.err
	echo "bridge_dashboard: $NFAIL failures"
	exit 1
fi
echo "bridge_dashboard: all checks passed"
