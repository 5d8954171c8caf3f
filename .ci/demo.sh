#!/bin/sh
# make demo: ringd publishing the `ticks` and `sine` demo feeds, and
# ringbridge serving them on 127.0.0.1 (PORT, default 8080). Ctrl-C stops
# everything; both daemons are killed by PID.
set -u
BIN=${BIN:-build/bin}
PORT=${PORT:-8080}
RATE=${RATE:-50}
pids=
stop() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	exit 0
}
trap stop INT TERM

"$BIN/ringd" --demo ticks -r "$RATE" -s 16M demo-ticks & pids="$pids $!"
"$BIN/ringd" --demo sine -r "$RATE" -s 1M demo-sine & pids="$pids $!"
sleep 0.5
"$BIN/ringbridge" -l "127.0.0.1:$PORT" -r demo-ticks -r demo-sine \
    > /tmp/ringbridge-demo.$$ 2>&1 & pids="$pids $!"
i=0
until grep -q listening /tmp/ringbridge-demo.$$ 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		cat /tmp/ringbridge-demo.$$ >&2
		echo "demo: ringbridge did not start" >&2
		rm -f /tmp/ringbridge-demo.$$
		stop
	fi
	sleep 0.1
done
cat /tmp/ringbridge-demo.$$
rm -f /tmp/ringbridge-demo.$$
cat <<MSG

shmring demo running: ringd publishes ${RATE} msg/s into rings demo-ticks
(JSON ticks) and demo-sine (f64 samples); ringbridge serves them.

  dashboard:            http://127.0.0.1:$PORT/
  ring stats (JSON):    http://127.0.0.1:$PORT/rings
  try:                  curl -N http://127.0.0.1:$PORT/rings/demo-ticks/stream
  inspect:              $BIN/ringctl list; $BIN/ringctl tail -f demo-ticks

Ctrl-C stops the demo.
MSG
wait
