#!/bin/bash
# bridge_nginx.sh - ringbridge behind nginx (docs/examples/nginx.conf, the
# snippet ringbridge(8) shows), with the dashboard in headless Chromium
# (tests/bridge_nginx.mjs): the bridge is stopped for longer than the
# browser's own EventSource retry, so nginx answers 502 and the browser
# gives up; the dashboard must reconnect by itself and continue after
# its last event id, with no message lost or repeated.
#
# Environment: RINGD, RINGBRIDGE (binaries), OUT (artefact directory),
# NODE_DIR, CHROMIUM (see browser_lib.sh), NGINX (default /usr/sbin/nginx).
# Exit 77 (skipped) without nginx, chromium or node/npm.
set -u
: "${RINGD:?set RINGD to the ringd binary}"
: "${RINGBRIDGE:?set RINGBRIDGE to the ringbridge binary}"
OUT=${OUT:-build/tests}
. "$(dirname "$0")/browser_lib.sh"
RINGD=$(abs "$RINGD")
RINGBRIDGE=$(abs "$RINGBRIDGE")
SNIPPET=$(abs "$(dirname "$0")/../docs/examples/nginx.conf")
MAN=$(abs "$(dirname "$0")/../bridge/ringbridge.8")
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || skip "no $NGINX (apt-get install nginx-light)"

SINE=ngx-sine-$$
T=$(mktemp -d)
PIDS=

cleanup() {
	local p
	[ -f "$T/bridge.pid" ] && PIDS="$PIDS $(cat "$T/bridge.pid")"
	[ -f "$T/bridge.pid.2" ] && PIDS="$PIDS $(cat "$T/bridge.pid.2")"
	[ -f "$T/bridge.pid.3" ] && PIDS="$PIDS $(cat "$T/bridge.pid.3")"
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -f /dev/shm/shmring."$SINE" /dev/shm/shmring-wait."$SINE"
	rm -rf "$T"
}
trap cleanup EXIT


# The man page shows the snippet: every directive of it must be there.
while read -r line; do
	case $line in '#'* | '') continue ;; esac
	grep -qF -- "$line" "$MAN" || fail "ringbridge(8) lacks '$line'"
done < "$SNIPPET"

"$RINGD" -q --demo sine -r 200 -s 1M "$SINE" 2>> "$T/ringd.err" &
PIDS="$PIDS $!"
"$RINGBRIDGE" -l 127.0.0.1:0 -r "$SINE" --reuseport > "$T/bridge.out" \
    2> "$T/bridge.err" &
echo $! > "$T/bridge.pid"
BPORT=$(bridge_port "$T/bridge.out")
if [ -z "$BPORT" ]; then
	cat "$T/bridge.out" "$T/bridge.err"
	echo "FAIL - ringbridge did not print its ready line"
	exit 1
fi

# nginx in the foreground on a free port (probed; a port taken between
# the probe and nginx's bind makes nginx exit, and the next one is tried),
# everything under $T, stopped by PID.
mkdir -p "$T/nginx/logs"
NPID=
for _ in 1 2 3 4 5; do
	NPORT=$(free_port)
	# A second upstream server, where a bridge runs only at the end.
	BPORT2=$(free_port)
	cat > "$T/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log info;
events { worker_connections 512; }
http {
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	upstream ringbridge {
		server 127.0.0.1:$BPORT max_fails=0;
		server 127.0.0.1:$BPORT2 max_fails=0;
	}
	server {
		listen 127.0.0.1:$NPORT;
		include $SNIPPET;
	}
}
CONF
	"$NGINX" -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" \
	    -g 'daemon off;' 2>> "$T/nginx/stderr" &
	NPID=$!
	for _ in $(seq 50); do
		kill -0 "$NPID" 2>/dev/null || break
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
		    "http://127.0.0.1:$NPORT/healthz")" = 200 ] && break 2
		sleep 0.1
	done
	kill "$NPID" 2>/dev/null
	wait "$NPID" 2>/dev/null
	NPID=
done
if [ -z "$NPID" ]; then
	cat "$T/nginx/stderr" "$T/nginx/error.log"
	echo "FAIL - nginx did not start"
	exit 1
fi
PIDS="$PIDS $NPID"
echo "# ringbridge on port $BPORT (and later $BPORT2), nginx on port" \
    "$NPORT, ring $SINE"

# The ring is served once ringd has created it.
for _ in $(seq 200); do
	curl -s "http://127.0.0.1:$NPORT/rings/$SINE" | grep -q '"state":"live"' &&
	    break
	sleep 0.1
done
# Events pass nginx one by one: the first of a stream arrives at once.
curl -sN --max-time 5 "http://127.0.0.1:$NPORT/rings/$SINE/stream" \
    > "$T/first" 2>/dev/null
if grep -q '^id: [0-9]*:' "$T/first"; then
	pass "a stream through nginx streams"
else
	fail "nothing streamed through nginx in 5 s: $(head -c 300 "$T/first")"
fi

mkdir -p "$T/profile"
PORT=$NPORT BPORT=$BPORT BPORT2=$BPORT2 SINE=$SINE BRIDGE=$RINGBRIDGE \
    PIDFILE=$T/bridge.pid OUT=$OUT PROFILE=$T/profile PLAYWRIGHT=$PW \
    ERRDIR=$T CHROMIUM=$CHROMIUM ACCESS_LOG=$T/nginx/access.log \
    node "$(dirname "$0")/bridge_nginx.mjs" || NFAIL=$((NFAIL + 1))

if ! sanitizer_clean "$T"/*.err; then
	fail "sanitizer report in the daemons' stderr"
	cat "$T"/*.err
else
	pass "no sanitizer report"
fi
if [ "$NFAIL" -ne 0 ]; then
	echo "--- nginx error log"
	tail -n 30 "$T/nginx/error.log"
	echo "--- ringbridge stderr"
	cat "$T"/*.err
	echo "bridge_nginx: $NFAIL failures"
	exit 1
fi
echo "bridge_nginx: all checks passed"
