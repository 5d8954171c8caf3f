#!/bin/bash
# ringctl check (and info, tail, list) on sound rings and on constructed
# corrupt, truncated and foreign objects: exit 1 with a reason, no crash.
. "$(dirname "$0")/ringctl_lib.sh"

# ---- sound rings ----
R=${PFX}sound
feed_start a "$R" 65536 1024
feed a "n 30 50"
rc 0 "check a live ring" check "$R"
contains "$T/out" "$R: ok (30 messages, seq 0..30)" "check: ok line"
rc 0 "check --json" check --json "$R"
pycheck "check --json: fields" "$T/out" "
assert j == {'name': '$R', 'ok': True, 'oldest_seq': 0, 'next_seq': 30,
    'messages_checked': 30}, j
"
feed a "n 5000 90"
rc 0 "check a wrapped ring" check "$R"
feed a close
rc 0 "check a closed ring" --json check "$R"
pycheck "check closed: ok" "$T/out" "assert j['ok'] is True, j"
rc 1 "check a missing ring" check "${PFX}missing"
contains "$T/err" "${PFX}missing: no such ring" "check: missing named"

# ---- a ring written at full speed: no false alarms, no torn reads ----
R=${PFX}busy
feed_start s "$R" 65536 1024
feed_send s "spin 100"
for i in $(seq 1 600); do
	"$RINGCTL" --json info "$R" >"$T/busy" 2>/dev/null
	[ "$(json_field "$T/busy" next_seq)" -ge 100000 ] && break
	sleep 0.05
done
for i in $(seq 1 10); do
	rc 0 "check while the producer writes at full speed ($i)" check "$R"
done
"$RINGCTL" --json info "$R" >"$T/busy"
start=$(json_field "$T/busy" next_seq)
timeout 60 "$RINGCTL" tail -f --from "$start" -n 20000 --format json "$R" \
    >"$T/busy.out" 2>"$T/busy.err"
check "tail while the producer writes at full speed" test $? -eq 0
cp "$T/busy.err" "$T/busy.txt"
pycheck "tail at full speed: intact messages, exact losses" "$T/busy.out" "
import re
o = [json.loads(l) for l in lines]
assert len(o) == 20000, len(o)
assert all(m['data'] == 's' * 100 and m['len'] == 100 for m in o)
seqs = [m['seq'] for m in o]
assert all(a < b for a, b in zip(seqs, seqs[1:]))
lost = sum(int(n) for n in
    re.findall(r'overrun: lost (\d+) messages', open('$T/busy.txt').read()))
assert lost == seqs[-1] - $start + 1 - len(seqs), (lost, seqs[-1], $start)
"
timeout 60 "$RINGCTL" watch --json -c 3 -i 0.05 "$R" >"$T/busy.out"
pycheck "watch at full speed: rates follow the sequence numbers" \
    "$T/busy.out" "
o = [json.loads(l) for l in lines]
assert len(o) == 3, o
for a, b in zip(o, o[1:]):
    moved = b['next_seq'] - a['next_seq']
    assert moved >= 0, (a, b)
    assert (b['msgs_per_s'] > 0) == (moved > 0), (a, b)
    assert abs(b['bytes_per_s'] - 100 * b['msgs_per_s']) < 1, (a, b)
"
kill -USR1 "${FEED_PID[s]}"
feed_recv s
feed s close

# A closed ring with 20 records "msg-N" of 24 bytes as the template.
TPL=${PFX}tpl
feed_start b "$TPL" 65536 1024
feed b "n 20 24"
feed b close
rc 0 "template ring is sound" check "$TPL"
tpl=/dev/shm/shmring.$TPL

# corrupt NAME DESC PYTHON: copy the template, edit `data`, check it.
corrupt() {
	local name=${PFX}$1 desc=$2
	shm_write "$name" "import struct
data = bytearray(open('$tpl', 'rb').read())
def rec(n):
    # offset of the record whose payload starts with msg-n
    return data.index(b'msg-%d' % n + b'x', 4096) - 16
$3"
	rc 1 "check: $desc" check "$name"
	contains "$T/err" "$name: " "check: $desc: ring named"
	check "check: $desc: a reason" test "$(wc -c <"$T/err")" -gt \
	    $((${#name} + 12))
	rc 1 "check --json: $desc" check --json "$name"
	pycheck "check --json: $desc: ok false, reason" "$T/out" "
assert j['name'] == '$name' and j['ok'] is False, j
assert len(j['reason']) > 5 and j['error'], j
"
	# the other readers must not crash or hang on it either
	for cmd in "info" "tail --from oldest" "tail -f --from oldest" \
	    "watch -c 1 -i 0.01"; do
		# shellcheck disable=SC2086
		timeout 60 "$RINGCTL" $cmd "$name" >/dev/null 2>"$T/err2"
		local st=$?
		check "$cmd on $desc: exit $st, no crash or hang" \
		    test "$st" -le 3
		check "$cmd on $desc: no sanitizer report" \
		    test "$(grep -c 'Sanitizer\|runtime error' "$T/err2")" = 0
	done
	rc 0 "rm the $desc object" rm "$name"
}

corrupt reclen "record length out of bounds" "
struct.pack_into('<Q', data, rec(10), (0x44 << 32) | 0xfff0)"
corrupt rectype "unknown record type" "
struct.pack_into('<Q', data, rec(10), (0x5a << 32) | 40)"
corrupt recseq "sequence discontinuity" "
struct.pack_into('<Q', data, rec(10) + 8, 12345)"
corrupt reclen0 "zero record length" "
struct.pack_into('<Q', data, rec(3), (0x44 << 32) | 0)"
corrupt magic "bad magic" "
data[0:8] = b'NOTARING'"
corrupt capacity "capacity not a power of two" "
struct.pack_into('<Q', data, 16, 65536 + 8)"
corrupt maxmsg "max_msg above capacity/8" "
struct.pack_into('<I', data, 24, 1 << 20)"
# next_seq is the only header word holding 20 (the template's 20 messages)
corrupt nextseq "header next seq disagrees with the records" "
offs = [o for o in range(128, 4096, 8)
    if struct.unpack_from('<Q', data, o)[0] == 20]
assert len(offs) == 1, offs
struct.pack_into('<Q', data, offs[0], 3)"
corrupt truncated "truncated data area" "
data = data[:4096 + 1000]"
corrupt trunchdr "truncated header" "
data = data[:100]"
corrupt empty "empty object" "
data = b''"
corrupt foreign "foreign random bytes" "
import random
random.seed(5)
data = bytes(random.getrandbits(8) for _ in range(8192))"
corrupt zeros "all zeros" "
data = bytes(4096 + 65536)"
corrupt text "a text file" "
data = b'hello, this is not a ring\n' * 100"

# ---- an object truncated under a live mapping (SIGBUS) ----
R=${PFX}shrink
rc 0 "create a ring to shrink" create --size 64K "$R"
timeout 60 "$RINGCTL" watch --json -i 0.02 "$R" >"$T/shrink.out" \
    2>"$T/shrink.err" &
wpid=$!
check "watch maps the ring" wait_for "$T/shrink.out" '"state":"closed"'
truncate -s 0 "/dev/shm/shmring.$R"
wait "$wpid"
check "watch on a ring truncated under it exits 1" test $? -eq 1
contains "$T/shrink.err" "$R: bus error reading the ring" \
    "truncated under the mapping: reported"
rm -f "/dev/shm/shmring.$R"

# an object others may write is refused
shm_write "${PFX}open" "data = open('$tpl', 'rb').read()"
chmod 0622 "/dev/shm/shmring.${PFX}open"
rc 1 "check: object writable by others" check "${PFX}open"
contains "$T/err" "writable by group/other" "check: writable reason"

# A sanitizer report in any file of $T fails the script.
finish "$T"/*
