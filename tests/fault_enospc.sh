#!/bin/bash
# fault_enospc.sh - /dev/shm too small for a ring: ringd fails at creation
# with a clear error naming /dev/shm and exits nonzero, and
# shmr_writer_create() returns -ENOSPC leaving nothing behind. Runs in a
# private mount namespace with a 1 MiB tmpfs on /dev/shm, so it needs root
# and unshare(1); exit 77 (skipped) without them.
#	RINGD=build/bin/ringd CREATE=build/tests/fault_create \
#	    bash tests/fault_enospc.sh
set -u
RINGD=${RINGD:-build/bin/ringd}
CREATE=${CREATE:-build/tests/fault_create}

if [ "$(id -u)" != 0 ]; then
	echo "fault_enospc: SKIPPED: needs root for a private /dev/shm mount"
	exit 77
fi
if ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
	echo "fault_enospc: SKIPPED: unshare -m is unavailable"
	exit 77
fi

# shellcheck disable=SC2016
exec unshare -m --propagation private bash -c '
set -u
RINGD=$1 CREATE=$2 name=fault-enospc-$$
fail() { echo "fault_enospc: FAIL: $*"; exit 1; }
mount -t tmpfs -o size=1M tmpfs /dev/shm || { echo "fault_enospc: SKIPPED:" \
    "cannot mount a tmpfs on /dev/shm"; exit 77; }

err=$("$RINGD" -s 64M "$name" </dev/null 2>&1 >/dev/null)
rc=$?
echo "ringd -s 64M $name: exit $rc: $err"
[ "$rc" != 0 ] || fail "ringd exited 0 on a full /dev/shm"
case $err in
*"$name"*/dev/shm*) ;;
*) fail "ringd error does not name the ring and /dev/shm: $err" ;;
esac
case $err in
*room*|*space*) ;;
*) fail "ringd error does not say /dev/shm lacks space: $err" ;;
esac
[ ! -e "/dev/shm/shmring.$name" ] || fail "ringd left /dev/shm/shmring.$name"

"$CREATE" "$name" $((64 << 20)) -28 || fail "create did not return -ENOSPC"
# A ring that fits still works in the same small /dev/shm.
"$CREATE" "$name-small" $((256 << 10)) 0 || fail "a 256 KiB ring failed"
echo "fault_enospc: ok"
' fault_enospc "$RINGD" "$CREATE"
