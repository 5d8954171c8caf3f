#!/bin/sh
# soak_bridge.sh BUILD_DIR [SECONDS] - ringbridge load and soak run (see
# tests/soak_client.c): 1,000 SSE clients, 10% slow and lapped, a producer
# at SOAK_RATE msg/s into a 1 MiB ring, per-second samples of the bridge's
# RSS, fds and CPU and of the publish rate. The log goes to
# BUILD_DIR/soak.log; the exit status is soak_client's (0 passed).
set -eu
b=${1:?usage: soak_bridge.sh BUILD_DIR [SECONDS]}
secs=${2:-600}
log=$b/soak.log
"$b/tests/soak_client" --bridge "$b/bin/ringbridge" \
    -c "${SOAK_CLIENTS:-1000}" --slow "${SOAK_SLOW_PCT:-10}" \
    -r "${SOAK_RATE:-500}" -s "${SOAK_SIZE:-128}" \
    --ring-size "${SOAK_RING_SIZE:-1048576}" -t "$secs" > "$log" 2>&1 &&
    rc=0 || rc=$?
grep -v '^sample ' "$log"
# RSS and fd curves, summarised: first, every 10th and last sample.
awk '/^sample /{ n++; if (n == 1 || n % 10 == 0) print; last = $0 }
    END { if (n % 10 != 0) print last }' "$log"
exit $rc
