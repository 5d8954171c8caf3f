#!/bin/bash
# ringctl list: hundreds of rings, live/dead/closed states, unreadable and
# foreign objects; rm of many names at once.
. "$(dirname "$0")/ringctl_lib.sh"

N=${RINGCTL_LIST_N:-300}
names=()
for i in $(seq -w 1 "$N"); do
	names+=("${PFX}r$i")
done
fails_before=$NFAIL
for n in "${names[@]}"; do
	timeout 60 "$RINGCTL" create --size 64K --max-msg 1K "$n" ||
	    fail "create $n"
done
check "created $N rings" test "$NFAIL" -eq "$fails_before"

feed_start a "${PFX}live" 65536 2048
feed a "n 123 10"
feed a info
read -r _ _ _ livepid <<<"$FEED_REPLY"
feed_start b "${PFX}dead"
feed b "pub x"
feed b die
shm_write "${PFX}foreign" "data = b'not a ring at all' * 1000"
shm_write "${PFX}open" "data = bytes(8192)"
chmod 0622 "/dev/shm/shmring.${PFX}open"

rc 0 "list --json" list --json
pycheck "list --json: every ring, field by field" "$T/out" "
rings = {r['name']: r for r in j['rings'] if r['name'].startswith('$PFX')}
made = [n for n in rings if n.startswith('${PFX}r')]
assert len(made) == $N, len(made)
for n in made:
    r = rings[n]
    assert r['capacity'] == 65536 and r['max_msg'] == 1024, r
    assert r['state'] == 'closed' and r['alive'] is False, r
    assert r['messages'] == 0 and r['next_seq'] == 0, r
    assert r['oldest_seq'] == 0 and r['rate'] == 0, r
    assert r['mode'] == '0600' and 0 < r['epoch'] < 2**53, r
live = rings['${PFX}live']
assert live['state'] == 'live' and live['alive'] is True, live
assert live['pid'] == $livepid, live
assert live['messages'] == 123 and live['next_seq'] == 123, live
assert live['bytes'] == 1230 and live['max_msg'] == 2048, live
assert isinstance(live['rate'], float) and live['rate'] >= 0, live
dead = rings['${PFX}dead']
assert dead['state'] == 'dead' and dead['next_seq'] == 1, dead
bad = rings['${PFX}open']
assert 'writable' in bad['error'] and bad['mode'] == '0622', bad
assert set(bad) == {'name', 'error', 'uid', 'owner', 'mode'}, bad
assert '${PFX}foreign' not in rings, 'foreign object listed'
"
rc 0 "list (text)" list
pycheck "list: header and rows" "$T/out" "
assert lines[0].split() == ['NAME', 'CAPACITY', 'MAXMSG', 'MESSAGES',
    'NEXT', 'OLDEST', 'RATE/s', 'STATE', 'OWNER', 'MODE'], lines[0]
rows = {l.split()[0]: l.split() for l in lines[1:]}
mine = [n for n in rows if n.startswith('${PFX}r')]
assert len(mine) == $N, len(mine)
r = rows['${PFX}r' + '1'.zfill(len('$N'))]
assert r[1:6] == ['64KiB', '1024B', '0', '0', '0'] and r[7] == 'closed', r
assert rows['${PFX}live'][3] == '123' and rows['${PFX}live'][7] == 'live'
assert rows['${PFX}dead'][7] == 'dead'
assert rows['${PFX}open'][1] == 'unreadable:', rows['${PFX}open']
assert '${PFX}foreign' not in rows
"
rc 0 "list --names" list --names
pycheck "list --names: all names" "$T/out" "
mine = [l for l in lines if l.startswith('$PFX')]
assert len(mine) == $N + 4, len(mine)
assert '${PFX}foreign' in mine
"

rc 1 "rm refuses a live ring among others" rm "${PFX}live" "${PFX}dead"
check "rm still removed the dead one" test ! -e "/dev/shm/shmring.${PFX}dead"
check "rm kept the live one" test -e "/dev/shm/shmring.${PFX}live"
rc 0 "rm $N rings at once" rm "${names[@]}"
rc 0 "rm foreign and unreadable objects" rm "${PFX}foreign" "${PFX}open"
rc 0 "list after rm" list --json
pycheck "list after rm: only the live ring" "$T/out" "
mine = [r['name'] for r in j['rings'] if r['name'].startswith('$PFX')]
assert mine == ['${PFX}live'], mine
"
feed a unlink

# A sanitizer report in any file of $T fails the script.
finish "$T"/*
