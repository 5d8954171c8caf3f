#!/bin/sh
# valgrind_bridge.sh - run ringbridge under valgrind memcheck; a drop-in
# for the bridge binary in bench_fanout --bridge or soak_client --bridge.
# VG_BRIDGE_BIN (build/bin/ringbridge) and VG_LOG_DIR (/tmp) may be set;
# the report is VG_LOG_DIR/vg_bridge.PID.log.
exec valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --track-fds=yes \
    --log-file="${VG_LOG_DIR:-/tmp}/vg_bridge.%p.log" \
    "${VG_BRIDGE_BIN:-build/bin/ringbridge}" "$@"
