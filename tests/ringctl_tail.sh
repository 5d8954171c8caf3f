#!/bin/bash
# ringctl tail: selection (-n, --from), formats, overruns, and -f through
# end of stream, a dead producer and a restart.
. "$(dirname "$0")/ringctl_lib.sh"

R=${PFX}t
feed_start a "$R" 65536 4096
feed a "n 25"

# text lines are "SEQ<TAB>payload"
seqs() { cut -f1 "$T/out" | tr '\n' ' '; }
rc 0 "tail (default: last 10)" tail "$R"
check "tail: seqs 15..24" test "$(seqs)" = "$(seq -s ' ' 15 24) "
contains "$T/out" "$(printf '24\tmsg-24')" "tail: text line format"
check "tail: no owner note for the caller's own ring" \
    test "$(grep -c 'note:' "$T/err")" = 0
rc 0 "tail -n 3" tail -n 3 "$R"
check "tail -n 3: seqs 22..24" test "$(seqs)" = "22 23 24 "
rc 0 "tail -n 100 (more than available)" tail -n 100 "$R"
check "tail -n 100: all 25" test "$(seqs)" = "$(seq -s ' ' 0 24) "
rc 0 "tail -n 0" tail -n 0 "$R"
check "tail -n 0: nothing" test ! -s "$T/out"
rc 0 "tail --from oldest" tail --from oldest "$R"
check "tail --from oldest: all 25" test "$(seqs)" = "$(seq -s ' ' 0 24) "
rc 0 "tail --from 5 -n 2" tail --from 5 -n 2 "$R"
check "tail --from 5 -n 2: 5 6" test "$(seqs)" = "5 6 "
rc 0 "tail --from 20" tail --from 20 "$R"
check "tail --from 20: 20..24" test "$(seqs)" = "20 21 22 23 24 "
rc 0 "tail --from latest" tail --from latest "$R"
check "tail --from latest: 24" test "$(seqs)" = "24 "
rc 0 "tail --from end" tail --from end "$R"
check "tail --from end: nothing" test ! -s "$T/out"
rc 0 "tail --from next_seq" tail --from 25 "$R"
check "tail --from 25: nothing" test ! -s "$T/out"
rc 1 "tail --from beyond next" tail --from 99 "$R"
contains "$T/err" "$R: sequence 99 is beyond" "beyond: ring named"
rc 1 "tail a missing ring" tail "${PFX}nope"
contains "$T/err" "${PFX}nope: no such ring" "tail: missing ring named"

# ---- formats ----
# ESC [ 3 1 m A NUL \ LF DEL, then UTF-8 "héllo", a C1 control, binary
feed a "hex 1b5b33316d41005c0a7f"
feed a "pub héllo wörld"
feed a "hex c285410a"
feed a "hex fffe00"
rc 0 "tail --format text" tail -n 4 "$R"
pycheck "text: escapes, no raw control bytes" "$T/out" "
assert lines[0] == '25\t\\\\x1b[31mA\\\\x00\\\\\\\\\\\\n\\\\x7f', repr(lines[0])
assert lines[1] == '26\théllo wörld', repr(lines[1])
assert lines[2] == '27\t\\\\xc2\\\\x85A\\\\n', repr(lines[2])
assert lines[3] == '28\t\\\\xff\\\\xfe\\\\x00', repr(lines[3])
assert len(lines) == 4
for ch in s:
    assert ch in '\t\n' or ord(ch) >= 0xa0 or 0x20 <= ord(ch) < 0x7f, repr(ch)
"
rc 0 "tail --format json" tail --format json -n 5 "$R"
pycheck "json: one object per line, field by field" "$T/out" "
o = [json.loads(l) for l in lines]
assert len(o) == 5, o
assert o[0] == {'seq': 24, 'len': 6, 'data': 'msg-24'}, o[0]
assert o[1]['seq'] == 25 and o[1]['data'] == '\x1b[31mA\x00\\\\\n\x7f', o[1]
assert o[2]['data'] == 'héllo wörld' and o[2]['len'] == 13, o[2]
assert o[3]['data'] == '\x85A\n', o[3]
assert o[4] == {'seq': 28, 'len': 3, 'data_base64': '//4A'}, o[4]
"
rc 0 "--json tail (global flag)" --json tail -n 1 "$R"
pycheck "global --json selects json" "$T/out" "
assert json.loads(lines[0])['seq'] == 28
"
rc 0 "tail --format raw" tail --format raw --from 25 -n 1 "$R"
check "raw: exact bytes" test "$(od -An -tx1 "$T/out" | tr -d ' \n')" = \
    1b5b33316d41005c0a7f
rc 0 "tail --format hex" tail --format hex --from 25 -n 1 "$R"
contains "$T/out" "seq 25 len 10" "hex: header line"
contains "$T/out" \
    "00000000  1b 5b 33 31 6d 41 00 5c  0a 7f" "hex: bytes"
contains "$T/out" "|.[31mA.\\..|" "hex: printable column"

# ---- overruns: a reader lapped by 64 KiB of traffic ----
R2=${PFX}lap
feed_start b "$R2" 65536 1024
feed b "n 4000 100"
feed b info
read -r _ next oldest _ <<<"$FEED_REPLY"
rc 0 "tail --from 0 of a lapped ring" tail --from 0 -n 2 "$R2"
contains "$T/err" "$R2: overrun: lost $oldest messages" \
    "overrun: exact count ($oldest) on stderr"
check "after the overrun: the oldest two" \
    test "$(seqs)" = "$oldest $((oldest + 1)) "
rc 0 "tail -n 5 of a wrapped ring" tail -n 5 "$R2"
check "last 5 of a wrapped ring" \
    test "$(seqs)" = "$(seq -s ' ' $((next - 5)) $((next - 1))) "
feed b close

# ---- tail -f sees the end of stream ----
timeout 60 "$RINGCTL" tail -f --from 27 "$R" >"$T/f.out" 2>"$T/f.err" &
tpid=$!
check "tail -f: caught up" wait_for "$T/f.out" "$(printf '28\t')"
feed a "pub after-1"
feed a "pub after-2"
check "tail -f: follows new messages" wait_for "$T/f.out" "after-2"
feed a close
wait "$tpid"
check "tail -f exits 0 at end of stream" test $? -eq 0
pycheck "tail -f: everything in order" "$T/f.out" "
assert [l.split('\t')[0] for l in lines] == ['27', '28', '29', '30'], lines
assert lines[3] == '30\tafter-2'
"

# ---- tail -f: a dead producer, then a new producer (restart) ----
R3=${PFX}restart
feed_start c "$R3"
feed c "pub first"
timeout 120 "$RINGCTL" tail -f --format json "$R3" >"$T/g.out" \
    2>"$T/g.err" &
tpid=$!
check "tail -f json: first message" wait_for "$T/g.out" '"first"'
feed c die
check "tail -f reports the dead producer" wait_for "$T/g.err" \
    "$R3: producer (pid"
contains "$T/g.err" "died" "dead producer: reason"
feed_start d "$R3"
feed d "pub second"
check "tail -f follows the new producer" wait_for "$T/g.out" '"second"'
check "tail -f reports the restart" wait_for "$T/g.err" \
    "$R3: producer restarted the ring (epoch $(ring_epoch "$R3"))"
feed d close
wait "$tpid"
check "tail -f exits 0 after the new producer closes" test $? -eq 0
pycheck "tail -f json across a restart" "$T/g.out" "
o = [json.loads(l) for l in lines]
assert [m['data'] for m in o] == ['first', 'second'], o
assert o[0]['seq'] == 0 and o[1]['seq'] == 0, o
"
check "dead producer reported once" \
    test "$(grep -c 'died' "$T/g.err")" -eq 1

# ---- tail -f: the ring is removed and created again under the name ----
R4=${PFX}again
feed_start e "$R4"
feed e "pub old"
timeout 120 "$RINGCTL" tail -f --format json "$R4" >"$T/h.out" \
    2>"$T/h.err" &
tpid=$!
check "tail -f: old ring's message" wait_for "$T/h.out" '"old"'
rc 0 "rm --force under a follower" rm --force "$R4"
feed_start f "$R4"
feed f "pub new"
feed f close
# the old producer closes too: its end of stream must not end the tail,
# since the name now refers to the new ring (closed after one message)
feed e close
wait "$tpid"
check "tail -f follows the new ring to its end, exit 0" test $? -eq 0
pycheck "tail -f: old then new" "$T/h.out" "
assert [json.loads(l)['data'] for l in lines] == ['old', 'new'], lines
"
cp "$T/h.err" "$T/h.txt"
pycheck "tail -f: the switch is reported" "$T/h.txt" "
assert '$R4: ' in s and ('created again' in s or 'restarted' in s), s
"

# ---- a ring of another user: tail trusts any owner, as info does ----
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	R5=${PFX}foreign
	# the producer runs as nobody; its FIFOs are opened by this shell
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 %s %s "$@"\n' \
	    --clear-groups "$FEED" >"$T/feed-nobody"
	chmod +x "$T/feed-nobody"
	FEED=$T/feed-nobody feed_start g "$R5"
	feed g "n 3"
	rc 0 "info: a ring of another user" --json info "$R5"
	pycheck "info: it is nobody's" "$T/out" "assert j['uid'] == 65534, j"
	rc 0 "info (plain): a ring of another user" info "$R5"
	contains "$T/out" "owner:         nobody (uid 65534)" \
	    "info (plain): the owner shown"
	rc 0 "tail: a ring of another user" tail "$R5"
	check "tail: its messages 0..2" test "$(seqs)" = "0 1 2 "
	check "tail: the owner named on stderr, in one line" test \
	    "$(cat "$T/err")" = "ringctl: note: ring $R5 is owned by user nobody"
	timeout 60 "$RINGCTL" tail -f --format json "$R5" >"$T/g.out" \
	    2>"$T/g.err" &
	tpid=$!
	check "tail -f: a foreign ring's message" wait_for "$T/g.out" '"msg-2"'
	# a new producer of that user replaces the ring: -f follows it
	feed g die
	FEED=$T/feed-nobody feed_start h "$R5"
	feed h "pub after"
	feed h close
	wait "$tpid"
	check "tail -f follows the foreign ring's restart to its end" \
	    test $? -eq 0
	pycheck "tail -f: old ring, then the new one" "$T/g.out" "
assert [json.loads(l)['data'] for l in lines] == ['msg-0', 'msg-1',
    'msg-2', 'after'], lines
"
	check "tail -f: the owner named once (the new ring has the same)" \
	    test "$(grep -c 'is owned by user nobody' "$T/g.err")" = 1
else
	echo "ok - # SKIP a ring of another user: needs root and setpriv"
fi

# A sanitizer report in any file of $T fails the script.
finish "$T"/*
