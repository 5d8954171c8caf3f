"""relay_check.py - compare a mirror's view with the origin's (relay tests).

usage: relay_check.py ORIGIN MIRROR [--lost N] [--restarts N] [--min N]

Both files hold relay_reader lines (M/L/R). The mirror passes when, epoch
by epoch, its messages come in sequence without a duplicate and every
hole is announced by an L line with the exact count (L says how many and
where it continues), each message has the origin's length and hash for
the same EPOCH:SEQ, and it reaches the origin's last message (delivered,
or announced lost).
--lost N: the L lines of the mirror add up to N (default 0);
--restarts N: the mirror reports N restarts (default: as many as the
origin); --min N: at least N messages delivered.
"""
import sys


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p:
                out.append(p)
    return out


def main():
    args = sys.argv[1:]
    opts = {"--lost": "0", "--restarts": None, "--min": "1"}
    files = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        else:
            files.append(a)
    origin, mirror = load(files[0]), load(files[1])
    msgs = {}
    last = {}
    orestarts = 0
    for p in origin:
        if p[0] == "M":
            msgs[(p[1], int(p[2]))] = (p[3], p[4])
            last[p[1]] = int(p[2])
        elif p[0] == "R":
            orestarts += 1
    bad = []
    expect = {}
    lost = 0
    restarts = 0
    delivered = 0
    mlast = {}
    for p in mirror:
        if p[0] == "R":
            restarts += 1
            continue
        e = p[1]
        if p[0] == "L":
            n, nxt = int(p[2]), int(p[3])
            if e in expect and nxt - n != expect[e]:
                bad.append("epoch %s: loss of %d to %d does not follow %d"
                           % (e, n, nxt, expect[e]))
            lost += n
            expect[e] = nxt
            continue
        s = int(p[2])
        if e in expect and s != expect[e]:
            bad.append("epoch %s: seq %d where %d was due (%s)"
                       % (e, s, expect[e], "duplicate" if s < expect[e]
                          else "unannounced hole"))
        expect[e] = s + 1
        mlast[e] = s
        delivered += 1
        o = msgs.get((e, s))
        if o is None:
            bad.append("%s:%d is not in the origin" % (e, s))
        elif o != (p[3], p[4]):
            bad.append("%s:%d differs from the origin" % (e, s))
    for e, s in last.items():
        if expect.get(e, 0) != s + 1:
            bad.append("epoch %s: mirror ends at %s (next %s), origin at %d"
                       % (e, mlast.get(e), expect.get(e), s))
    if lost != int(opts["--lost"]):
        bad.append("mirror lost %d, expected %s" % (lost, opts["--lost"]))
    want_r = orestarts if opts["--restarts"] is None else int(
        opts["--restarts"])
    if restarts != want_r:
        bad.append("mirror restarts %d, expected %d" % (restarts, want_r))
    if delivered < int(opts["--min"]):
        bad.append("only %d messages delivered" % delivered)
    for b in bad[:20]:
        print("relay_check: " + b)
    print("relay_check: %d delivered, %d lost, %d restarts: %s"
          % (delivered, lost, restarts, "FAIL" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
