"""Zero-copy views: numpy without a copy, invalidation by a lap (raises,
never torn data), and a mapping that outlives every exported buffer."""
import gc

import numpy as np
import pytest

import shmring


def test_numpy_frombuffer_is_zero_copy(name):
    with shmring.Writer(name, capacity=1 << 16) as w:
        r = shmring.Reader(name)
        w.publish(np.arange(16, dtype="<f8"))
        v = r.view()
        a = np.frombuffer(v, dtype="<f8")
        assert (a == np.arange(16)).all() and v.seq == 0 and len(v) == 128
        assert not a.flags.writeable
        with pytest.raises(TypeError):
            v.data[0] = 1               # read-only memoryview
        with v:                         # checks on exit
            total = a.sum()
        assert total == 120
        # The array aliases the ring: a lap changes it under us, and the
        # view says so.
        for i in range(2000):
            w.publish(np.full(16, -1.0))
        assert (a == -1.0).all()
        assert not v.intact()
        with pytest.raises(shmring.Overwritten):
            v.check()
        with pytest.raises(shmring.Overwritten):
            v.tobytes()
        with pytest.raises(shmring.Overwritten):
            with v:
                pass
        # The reader had moved past the view: it now reports the loss.
        item = r.next(0)
        assert isinstance(item, shmring.Overrun) and item.lost > 0


def test_never_torn_under_a_live_c_producer(name, bench_feed):
    """Views taken while bench_feed streams: every one that passes its
    check holds one message (all f64 words equal its seq)."""
    f = bench_feed(name, 1 << 16, 1024, 300000)
    r = shmring.Reader(name)
    f.go()
    ok = torn_caught = 0
    while True:
        try:
            item = r.view(timeout=10)
        except EOFError:
            break
        if not isinstance(item, shmring.View):
            continue
        a = np.frombuffer(item, dtype="<f8")
        same = bool((a == item.seq).all())
        try:
            item.check()
        except shmring.Overwritten:
            torn_caught += 1
            continue
        assert same, "a view that passed its check held torn data"
        ok += 1
        try:
            b = item.tobytes()
        except shmring.Overwritten:
            continue
        assert (np.frombuffer(b, "<f8") == item.seq).all()
    f.wait()
    assert ok > 0


def test_mapping_outlives_reader_and_writer(name):
    w = shmring.Writer(name, capacity=1 << 16)
    w.publish(b"still here")
    r = shmring.Reader(name)
    v = r.view()
    mv = v.data
    arr = np.frombuffer(v, dtype=np.uint8)
    r.close()
    del r
    w.close()                           # unlinked, producer gone
    del w, v
    gc.collect()
    assert bytes(mv) == b"still here"
    assert arr.tobytes() == b"still here"
    del mv
    gc.collect()
    assert arr.tobytes() == b"still here"


def test_view_survives_restart(name, feed):
    f = feed(name)
    f.cmd("pub first")
    r = shmring.Reader(name)
    v = r.view()
    f.end("die")
    g = feed(name)                      # new ring, new mapping
    g.cmd("pub second")
    assert isinstance(r.next(10), shmring.Restart)
    assert r.next(10).data == b"second"
    assert bytes(v) == b"first"         # the old mapping is still there
    v.check()
