"""No leak over a million messages: traced Python memory and RSS stay
flat while a C producer's messages are read every way there is."""
import gc
import resource
import tracemalloc

import numpy as np
import pytest

import shmring
from conftest import SLOW, python_child

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


# In a fresh interpreter: pytest's own heap has free chunks enough to hide
# what happens in a lean reader process.
BATCH_FAULTS = r"""
import resource, sys
import shmring

name = sys.argv[1]
size, n = 1024, 800
payload = b"x" * size
with shmring.Writer(name, capacity=1 << 20, max_msg=size) as w:
    r = shmring.Reader(name)

    def round_trip():
        for _ in range(n):
            w.publish(payload)
        t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        got = 0
        while True:
            batch = r.read_batch(4096, timeout=0)
            if not batch:
                break
            assert all(m.data == payload for m in batch)
            got += len(batch)
            del batch
        assert got == n, got
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - t0

    for _ in range(3):                  # every ring page mapped in
        round_trip()
    print(sum(round_trip() for _ in range(5)))
    r.close()
"""


@pytest.mark.skipif(SLOW, reason="ASan's allocator does its own paging")
def test_read_batch_of_large_messages_reuses_memory(name):
    """read_batch(4096) of 1 KiB messages used to build a list of 4 MiB
    of bytes objects, whose memory the C allocator gave back to the
    kernel when the list died and faulted in afresh for the next one: a
    page fault per 4 messages, and read_batch slower than iteration. A
    batch now stops at 64 KiB of payload, so the memory is reused (and
    stays in cache)."""
    p = python_child(BATCH_FAULTS, name)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    # 5 rounds of 800 KiB: ~650 faults when each list is paged in anew.
    assert int(out) < 100, out
