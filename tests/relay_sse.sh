#!/bin/bash
# relay_sse.sh - an SSE client moves from the origin host's ringbridge to
# the mirror host's with Last-Event-ID and continues exactly: the next
# event id, the same bytes, nothing twice, and the origin's end of stream
# as its eof event (issue 15). The relays run as the example systemd
# units in docs/ start them.
. "$(dirname "$0")/relay_lib.sh"

two_hosts
PA=$(free_port)
PB=$(free_port)

# The relays as docs/ringrelay-{push,pull}@.service start them.
mapfile -t PUSHCMD < <(unit_cmd docs/ringrelay-push@.service $RING "$URL")
mapfile -t PULLCMD < <(unit_cmd docs/ringrelay-pull@.service $RING "$URL")
check "the units' command lines: ${PUSHCMD[*]}; ${PULLCMD[*]}" \
    test "${PUSHCMD[1]}" = push -a "${PULLCMD[1]}" = pull
spawn A "${PUSHCMD[@]}" 2>>"$T/push.log"
spawn B "${PULLCMD[@]}" 2>>"$T/pull.log"
gen s 20000 4000 | on A "$BIN/ringd" -q -s 32M --keep $RING \
    2>>"$T/ringd.log" &
GEN=$!; track $GEN
# Both bridges serve the ring once it exists on their host.
for _ in $(seq 100); do
	on B test -e /dev/shm/shmring.$RING && break
	sleep 0.1
done
spawn A "$BIN/ringbridge" -l 127.0.0.1:"$PA" -r $RING 2>>"$T/bridgeA.log"
spawn B "$BIN/ringbridge" -l 127.0.0.1:"$PB" -r $RING 2>>"$T/bridgeB.log"

$PY - "$PA" "$PB" >"$T/client.txt" 2>&1 <<'PYEOF'
import http.client, socket, sys, time

def stream(port, last_id, limit, until):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    h = {"Accept": "text/event-stream"}
    path = "/rings/feed/stream?from=oldest"
    if last_id:
        h["Last-Event-ID"] = last_id
    for _ in range(50):
        c.request("GET", path, headers=h)
        r = c.getresponse()
        if r.status == 200:
            break
        r.read()
        time.sleep(0.1)
    else:
        sys.exit("bridge on %s: status %d" % (port, r.status))
    out, ev = [], {}
    while len(out) < limit:
        try:
            line = r.fp.readline()
        except socket.timeout:
            print("bridge on %s: nothing for 10 s" % port)
            break
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line == "":
            if "data" in ev or "event" in ev:
                out.append(ev)
                if until is not None and \
                        ev.get("id", "").endswith(":%d" % until):
                    break
            ev = {}
        elif line.startswith(":"):
            continue
        else:
            k, _, v = line.partition(": ")
            ev[k] = ev.get(k, "") + v if k == "data" else v
    c.close()
    return out

first = stream(sys.argv[1], None, 5000, 19999)
last = first[-1]["id"]
time.sleep(0.5)
# The mirror's bridge, to the end of the stream: the origin's producer
# closes the ring after the last message, the mirror's stream says eof.
second = stream(sys.argv[2], last, 30000, None)
end = second.pop() if second else {}
bad = 0
if end.get("event") != "eof" or end.get("data") != '{"next":20000}':
    print("the mirror's stream ends with %r, not eof at 20000" % end)
    bad = 1
prev = None
for ev in first + second:
    if ev.get("event", "message") != "message":
        print("unexpected event", ev)
        bad += 1
        continue
    e, s = ev["id"].split(":")
    s = int(s)
    if prev is not None and (e, s) != (prev[0], prev[1] + 1):
        print("id %s:%d after %s:%d" % (e, s, prev[0], prev[1]))
        bad += 1
    want = "s-%d-%s" % (s, "x" * (s * 7 % 300))
    if ev["data"] != want:
        print("data of %s differs" % ev["id"])
        bad += 1
    prev = (e, s)
print("switched at %s; %d + %d events; last %s:%d; %d bad"
      % (last, len(first), len(second), prev[0], prev[1], bad))
sys.exit(1 if bad or prev[1] != 19999 or len(first) != 5000 else 0)
PYEOF
RC=$?
cat "$T/client.txt"
check "an SSE client switching bridges with Last-Event-ID continues exactly to eof" \
    [ $RC = 0 ]
check "the feed ran to its end" job_done $GEN 60
relay_finish
