#!/bin/bash
# ringctl: command line, info, create, rm and watch against live rings.
. "$(dirname "$0")/ringctl_lib.sh"

# ---- command line ----
rc 0 "--help" --help
contains "$T/out" "usage: ringctl" "--help prints the usage"
rc 0 "--version" --version
contains "$T/out" "ringctl 0.1" "--version prints the version"
for c in list info tail watch check create rm; do
	rc 0 "$c --help" "$c" --help
	contains "$T/out" "usage: ringctl $c" "$c --help shows its usage"
	rc 0 "$c --version" "$c" --version
	contains "$T/out" "ringctl 0.1" "$c --version"
done
rc 100 "no command"
rc 100 "unknown command" frobnicate
contains "$T/err" "unknown command: frobnicate" "unknown command named"
rc 100 "unknown option" info --bogus x
rc 100 "info without a name" info
rc 100 "info with two names" info a b
rc 100 "invalid ring name" info ../etc
contains "$T/err" "invalid ring name" "invalid name reported"
rc 100 "bad --format" tail --format xml x
rc 100 "bad --from" tail --from soon x
rc 100 "bad -n" tail -n -3 x
rc 100 "create without --size" create "${PFX}c"
rc 100 "create: size not a power of two" create --size 100K "${PFX}c"
rc 100 "create: size too small" create --size 4K "${PFX}c"
rc 100 "create: bad size suffix" create --size 64Q "${PFX}c"
rc 100 "create: mode writable by others" create --size 64K --mode 0666 \
    "${PFX}c"
rc 100 "create: max-msg above capacity/8" create --size 64K --max-msg 9K \
    "${PFX}c"
rc 100 "watch: bad interval" watch -i 0 x
rc 1 "info on a missing ring" info "${PFX}missing"
contains "$T/err" "${PFX}missing: no such ring" "missing ring named in error"

# ---- info on a live ring ----
R=${PFX}live
feed_start a "$R" 65536 4096
feed a "n 40 20"
feed a info
read -r _ next oldest fpid <<<"$FEED_REPLY"
rc 0 "info (text)" info "$R"
contains "$T/out" "state:         live (pid $fpid" "info: state live with pid"
contains "$T/out" "capacity:      64KiB (65536 bytes)" "info: human capacity"
contains "$T/out" "next seq:      $next" "info: next seq"
for form in "--json info" "info --json"; do
	# shellcheck disable=SC2086
	rc 0 "$form" $form "$R"
	pycheck "$form: fields" "$T/out" "
assert j['name'] == '$R', j
assert j['state'] == 'live' and j['alive'] is True, j
assert j['pid'] == $fpid, j
assert j['capacity'] == 65536 and j['max_msg'] == 4096, j
assert j['next_seq'] == $next == 40 and j['oldest_seq'] == $oldest, j
assert j['messages'] == 40 and j['bytes'] == 40 * 20, j
assert j['available'] == j['next_seq'] - j['oldest_seq'], j
assert 0 < j['epoch'] < 2**53 and j['layout_version'] >= 1, j
assert 0 < j['used'] <= 65536, j
assert j['mode'] == '0600' and j['uid'] == $(id -u), j
assert j['owner'] == '$(id -un)', j
assert j['last_publish_age_s'] is not None and j['last_publish_age_s'] >= 0
assert j['created_ns'] > 0, j
"
done

# ---- rm refuses a live ring ----
rc 1 "rm refuses a live ring" rm "$R"
contains "$T/err" "$R: producer (pid $fpid) is alive" "rm names ring and pid"
check "ring still there after refused rm" test -e "/dev/shm/shmring.$R"

# ---- a dead producer ----
feed a die
rc 0 "info on a dead ring" --json info "$R"
pycheck "info: dead producer" "$T/out" "
assert j['state'] == 'dead' and j['alive'] is False, j
assert j['next_seq'] == 40, j
"
rc 0 "rm a dead ring" rm "$R"
check "rm removed the ring" test ! -e "/dev/shm/shmring.$R"
rc 1 "rm a missing ring" rm "$R"
contains "$T/err" "$R: no such ring" "rm: missing ring named"

# ---- rm --force ----
R=${PFX}forced
feed_start b "$R"
rc 1 "rm without --force" rm "$R"
rc 0 "rm --force a live ring" rm --force "$R"
check "rm --force removed it" test ! -e "/dev/shm/shmring.$R"
feed b close

# ---- create ----
R=${PFX}made
rc 0 "create" create "$R" --size 128K --max-msg 2K --mode 0640
rc 0 "info on a created ring" info --json "$R"
pycheck "create: header" "$T/out" "
assert j['capacity'] == 131072 and j['max_msg'] == 2048, j
assert j['mode'] == '0640', j
assert j['state'] == 'closed' and j['alive'] is False, j
assert j['next_seq'] == 0 and j['messages'] == 0, j
assert j['last_publish_age_s'] is None, j
"
E1=$(ring_epoch "$R")
rc 1 "create refuses an existing ring" create --size 64K "$R"
contains "$T/err" "$R: ring exists" "create: exists reported"
rc 0 "create --force takes it over" create --force --size 64K "$R"
rc 0 "info after create --force" --json info "$R"
pycheck "create --force: new epoch" "$T/out" "
assert j['epoch'] > $E1 and j['capacity'] == 65536, j
"""
E2=$(ring_epoch "$R")
feed_start c "$R"
feed c "pub hello"
rc 0 "producer took over a created ring" --json info "$R"
pycheck "takeover: live, a newer epoch" "$T/out" "
assert j['state'] == 'live' and j['epoch'] > $E2 and j['next_seq'] == 1, j
"""
E3=$(ring_epoch "$R")

rc 1 "create --force refuses a ring with a live producer" create --force \
    --size 64K "$R"
contains "$T/err" "$R: a live producer owns the ring" "create: busy reason"

# ---- permission denied is a system error (exit 111) ----
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	P=${PFX}private
	rc 0 "create a 0600 ring" create --size 64K "$P"
	for c in "info" "check" "tail" "rm"; do
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$RINGCTL" $c "$P" >"$T/out" 2>"$T/err"
		check "$c as another user: exit 111" test $? -eq 111
		contains "$T/err" "$P: Permission denied" \
		    "$c as another user: reason"
	done
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$RINGCTL" list --json >"$T/out" 2>"$T/err"
	pycheck "list as another user: unreadable with the reason" "$T/out" "
r = [r for r in j['rings'] if r['name'] == '$P'][0]
assert r == {'name': '$P', 'error': 'Permission denied', 'uid': 0,
    'owner': 'root', 'mode': '0600'}, r
"
	rc 0 "rm the private ring" rm "$P"
fi

# ---- bash completion ----
compl() {
	PATH=$(dirname "$RINGCTL"):$PATH bash -c '
	    . "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    _ringctl; echo "${COMPREPLY[*]}"' _ \
	    "$(dirname "$0")/../tools/ringctl.bash-completion" "$@"
}
check "completion: commands" test "$(compl ringctl ta)" = "tail"
check "completion: tail options" \
    test "$(compl ringctl tail --fo)" = "--follow --format"
check "completion: --from values" \
    test "$(compl ringctl tail --from "")" = "oldest latest end"
check "completion: ring names" test "$(compl ringctl info "${PFX}ma")" = "$R"
# the commands, their options and who takes names come from the usage text
check "completion: the commands of ringctl --help" test "$(compl ringctl "")" \
    = "list info tail watch check create rm --json --help --version"
check "completion: create's options from its usage" \
    test "$(compl ringctl create --m)" = "--max-msg --mode"
check "completion: no ring names after list" \
    test -z "$(compl ringctl list "${PFX}ma")"
check "completion: ring names after rm" \
    test "$(compl ringctl rm "${PFX}ma")" = "$R"

# ---- watch ----
feed c "n 100"
rc 0 "watch -c 3 (plain lines)" watch -i 0.05 -c 3 "$R"
pycheck "watch: three plain lines" "$T/out" "
assert len(lines) == 3, lines
for l in lines:
    assert '$R msgs/s' in l and ' state live' in l and ' next 101 ' in l, l
    assert '\x1b' not in l, l
"
rc 0 "watch --json -c 2" watch --json -i 0.05 -c 2 "$R"
pycheck "watch --json: fields" "$T/out" "
assert len(lines) == 2, lines
for l in lines:
    o = json.loads(l)
    assert o['name'] == '$R' and o['state'] == 'live', o
    assert o['next_seq'] == 101 and o['epoch'] == $E3, o
    assert o['msgs_per_s'] == 0 and o['bytes_per_s'] == 0, o
    assert 0 < o['fill'] <= 100, o
"
if command -v script >/dev/null; then
	timeout 60 script -qec "$RINGCTL watch -i 0.05 -c 2 $R" /dev/null \
	    >"$T/tty.out" 2>&1
	check "watch on a terminal exits 0" test $? -eq 0
	pycheck "watch on a terminal: redrawn in place" "$T/tty.out" "
assert s.startswith('\x1b[H\x1b[2J'), repr(s[:20])
assert s.count('\x1b[H') == 4, repr(s)
assert s.count('rate        ') == 3 and 'state       live' in s, repr(s)
"
fi
# Signal ringctl itself: timeout(1) would forward SIGINT to its whole
# process group, and its own exit status would stand between us and
# ringctl's. wait_exit bounds the wait instead.
"$RINGCTL" watch -i 0.05 "$R" >"$T/watch.out" 2>&1 &
wpid=$!
check "watch prints until interrupted" wait_for "$T/watch.out" "state live"
kill -INT "$wpid"
wait_exit "$wpid" 60
check "watch exits 0 on SIGINT: status $WAIT_STATUS" test "$WAIT_STATUS" -eq 0
rc 1 "watch a missing ring" watch -c 1 "${PFX}none"
feed c close
rc 0 "info after close" --json info "$R"
pycheck "closed state" "$T/out" "assert j['state'] == 'closed', j"
rc 0 "rm a closed ring" rm "$R"

# A sanitizer report in any file of $T fails the script.
finish "$T"/*
