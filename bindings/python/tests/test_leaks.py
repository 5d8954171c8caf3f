"""No leak over a million messages: traced Python memory and RSS stay
flat while a C producer's messages are read every way there is."""
import gc
import tracemalloc

import numpy as np

import shmring
from conftest import SLOW

N = 200000 if SLOW else 1000000


def rss_kib():
    """Anonymous resident memory: what a leak grows (the ring's shared
    pages, resident as they are read, are not in it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


def drain(r, how):
    n = 0
    if how == "iter":
        for item in r:
            n += 1
    elif how == "batch":
        while True:
            try:
                n += len(r.read_batch(4096))
            except EOFError:
                break
    elif how == "view":
        while True:
            try:
                v = r.view()
            except EOFError:
                break
            a = np.frombuffer(v, dtype="<f8")
            a.sum()
            v.check()
            n += 1
    elif how == "readinto":
        buf = bytearray(64)
        while True:
            try:
                r.readinto(buf)
            except EOFError:
                break
            n += 1
    return n


def test_no_leak_over_a_million_messages(name, bench_feed):
    results = {}
    for i, how in enumerate(("iter", "batch", "view", "readinto")):
        ring = "%s-%d" % (name, i)
        # 128 MiB holds every 64-byte message: no loss, exact counts.
        f = bench_feed(ring, 1 << 27, 64, N)
        r = shmring.Reader(ring)
        f.go()
        f.wait()
        gc.collect()
        tracemalloc.start()
        rss0 = rss_kib()
        before = tracemalloc.get_traced_memory()[0]
        n = drain(r, how)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        rss1 = rss_kib()
        r.close()
        shmring.unlink(ring)
        assert n == N, (how, n)
        results[how] = (after - before, rss1 - rss0)
    for how, (traced, rss) in results.items():
        # Allocations per message would be >= 32 MB here.
        assert traced < 256 * 1024, (how, traced)
        # A leak of 16 bytes per message would be 16 MB. (ASan keeps
        # freed memory in quarantine: RSS says nothing there.)
        assert SLOW or rss < 16 * 1024, (how, rss)
