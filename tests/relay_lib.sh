# relay_lib.sh - sourced by the ringrelay tests: simulated hosts (each its
# own /dev/shm, via a private mount namespace), nats-server on free
# loopback ports with a temporary store, everything killed by PID.
# Sources tests/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Absolute: nsenter starts commands in / of the host's namespace.
BIN=$(realpath "${BIN:-build/bin}")
TB=$(realpath "${TB:-build/tests}")
PY=${PYTHON:-/usr/bin/python3}
PIDS=""
T=$(mktemp -d /tmp/relay-test.XXXXXX)

[ "$(id -u)" = 0 ] || skip "needs root for private /dev/shm mounts (CI runs as root)"
command -v nats-server >/dev/null || skip "no nats-server (apt-get install nats-server)"
[ -x "$BIN/ringrelay" ] || skip "ringrelay not built (no libnats: apt-get install libnats-dev)"
command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	skip "no unshare/nsenter"

cleanup() {
	# Quiet: bash's "Killed" job notices would end the log after the
	# summary line, which make shows.
	exec 2>/dev/null
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

track() { PIDS="$PIDS $1"; }

# log_has FILE TEXT SECONDS: wait, at most SECONDS, for TEXT in FILE.
log_has() {
	for _ in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# host NAME: a process holding a mount namespace with a private /dev/shm.
host() {
	unshare -m --propagation private sh -c \
	    'mount -t tmpfs -o size=512m tmpfs /dev/shm &&
	     touch /dev/shm/.relay-host && exec sleep 3600' &
	eval "HOST_$1=$!"
	track $!
	for _ in $(seq 100); do
		on "$1" test -e /dev/shm/.relay-host 2>/dev/null && return 0
		sleep 0.05
	done
	echo "host $1 did not come up" >&2
	exit 1
}

# on HOST CMD...: run CMD with HOST's /dev/shm.
on() {
	eval "t=\$HOST_$1"
	shift
	nsenter -t "$t" -m -- "$@"
}

# spawn HOST CMD...: the same in the background; $! is CMD's own pid
# (the subshell execs nsenter, which execs CMD), so kill -9 $! kills it.
spawn() {
	eval "t=\$HOST_$1"
	shift
	(exec nsenter -t "$t" -m -- "$@") &
	track $!
}

# two_hosts: hosts A and B, one nats-server ("one") at URL, RING=feed.
two_hosts() {
	host A
	host B
	nats one
	URL=nats://127.0.0.1:$NATS_one_PORT
	RING=feed
}

# followers: a relay_reader of RING on each host (A.out, B.out; pids RA,
# RB), which stop at the end of stream once the test creates $T/done (so
# a loaded machine's pauses do not end them early).
followers() {
	export RELAY_READER_DONE="$T/done"
	spawn A "$TB/relay_reader" $RING 500 >"$T/A.out" 2>"$T/readerA.log"
	RA=$!
	spawn B "$TB/relay_reader" $RING 500 >"$T/B.out" 2>"$T/readerB.log"
	RB=$!
}

# nats NAME [extra nats-server args]: sets NATS_<NAME>_PORT, NATS_<NAME>_PID.
nats() {
	n=$1
	shift
	p=$(free_port)
	mkdir -p "$T/js-$n"
	nats-server -a 127.0.0.1 -p "$p" -js -sd "$T/js-$n" "$@" \
	    >"$T/nats-$n.log" 2>&1 &
	eval "NATS_${n}_PID=$!"
	eval "NATS_${n}_PORT=$p"
	track $!
	for _ in $(seq 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "nats-server $n did not start:" >&2
	cat "$T/nats-$n.log" >&2
	exit 1
}

# gen TAG COUNT RATE [GATE]: lines of varying length at about RATE per
# second; with GATE, the first 10 lines, then nothing until file GATE is.
gen() {
	$PY -c '
import os, sys, time
tag, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gate = sys.argv[4] if len(sys.argv) > 4 else None
out = sys.stdout
t0 = time.monotonic()
for i in range(n):
    out.write("%s-%d-%s\n" % (tag, i, "x" * (i * 7 % 300)))
    if gate and i == 9:
        out.flush()
        while not os.path.exists(gate):
            time.sleep(0.02)
        t0 = time.monotonic() - (i + 1) / rate
    if i % 500 == 499:
        out.flush()
        d = t0 + (i + 1) / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
out.flush()
' "$@"
}

# job_done PID SECONDS: the background job ended well within SECONDS
# (killed if it lingers).
job_done() {
	wait_exit "$1" "$2" 2>/dev/null
	return "$WAIT_STATUS"
}

# stream_leader PORT STREAM: the name of the server leading STREAM, asked
# of the server on PORT in the NATS protocol ($JS.API.STREAM.INFO); empty
# when there is none (yet).
stream_leader() {
	$PY - "$@" <<'PYEOF'
import json, socket, sys
port, stream = int(sys.argv[1]), sys.argv[2]
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false,"headers":false}\r\n'
              b"SUB _INBOX.leader 1\r\n"
              b"PUB $JS.API.STREAM.INFO.%s _INBOX.leader 0\r\n\r\n"
              % stream.encode())
    while True:
        line = f.readline()
        if not line:
            break
        if line.startswith(b"MSG "):
            n = int(line.split()[-1])
            info = json.loads(f.read(n + 2)[:n])
            print(info.get("cluster", {}).get("leader", ""))
            break
except (OSError, ValueError):
    pass
PYEOF
}

# caught_up ORIGIN_OUT MIRROR_OUT SECONDS: wait, at most SECONDS, until
# the mirror's reader has printed the origin reader's last message: the
# relays have recovered from whatever the test did to them.
caught_up() {
	want=$(grep '^M' "$1" | tail -n 1)
	[ -n "$want" ] || return 1
	for _ in $(seq $(($3 * 10))); do
		[ "$(tail -n 1 "$2")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "# mirror ends with: $(tail -n 1 "$2"), origin with: $want"
	return 1
}

# relay_finish: the summary; a sanitizer report in a program's log fails.
relay_finish() {
	[ "$NFAIL" = 0 ] || { echo "logs:"; tail -n 20 "$T"/*.log; }
	finish "$T"/*.log
}

# unit_cmd UNIT RING NATS_URL: the ExecStart line of a docs/ systemd unit as
# systemd would run it (%i, ${VAR} as one word, $VAR split), with this
# build's binaries, RELAY_NATS=NATS_URL and the unit's default RELAY_OPTS;
# one argument per line.
unit_cmd() {
	$PY - "$@" "$BIN" <<'PYEOF'
import re, shlex, sys
unit, ring, url, bindir = sys.argv[1:5]
env, cmd = {}, None
for line in open(unit):
    line = line.strip()
    if line.startswith("Environment="):
        for w in shlex.split(line[len("Environment="):]):
            k, _, v = w.partition("=")
            env[k] = v
    elif line.startswith("ExecStart="):
        cmd = line[len("ExecStart="):]
env["RELAY_NATS"] = url
out = []
for w in cmd.split():
    w = w.replace("%i", ring).replace("/usr/local/sbin/", bindir + "/")
    m = re.fullmatch(r"\$\{(\w+)\}", w)
    if m:
        out.append(env[m.group(1)])
    elif re.fullmatch(r"\$(\w+)", w):
        out.extend(env[w[1:]].split())
    else:
        out.append(w)
print("\n".join(out))
PYEOF
}
