"""Writer and Reader in one process: every outcome, errors, options."""
import errno
import os
import time

import pytest

import shmring


def test_publish_iterate_eof(name):
    w = shmring.Writer(name, capacity=1 << 16)
    assert [w.publish(b"m%d" % i) for i in range(3)] == [0, 1, 2]
    r = shmring.Reader(name)
    w.close()
    items = list(r)             # the end of the stream ends the iteration
    assert items == [shmring.Message(i, b"m%d" % i) for i in range(3)]
    assert r.eof and r.last_seq == 2
    with pytest.raises(EOFError):
        r.next()
    with pytest.raises(EOFError):
        r.read_batch(10)
    assert list(r) == []


def test_buffer_protocol_publish(name):
    import array
    with shmring.Writer(name, capacity=1 << 16) as w:
        r = shmring.Reader(name)
        w.publish(bytearray(b"ba"))
        w.publish(memoryview(b"xmvx")[1:3])
        w.publish(array.array("i", [1]))
        w.publish(b"")
        got = [r.next(0).data for _ in range(4)]
        assert got == [b"ba", b"mv", array.array("i", [1]).tobytes(), b""]
        with pytest.raises(TypeError):
            w.publish("not bytes")
        with pytest.raises(BufferError):    # not contiguous
            w.publish(memoryview(b"abcdef")[::2])


def test_timeout_returns_none(name):
    with shmring.Writer(name, capacity=1 << 16):
        r = shmring.Reader(name)
        assert r.next(0) is None
        t0 = time.monotonic()
        assert r.next(timeout=0.2) is None
        assert 0.19 <= time.monotonic() - t0 < 2
        assert r.read_batch(5, timeout=0.05) == []
        assert r.readinto(bytearray(8), timeout=0) is None
        assert r.view(timeout=0) is None
        assert r.wait(0.05) is False
        with pytest.raises(ValueError):
            r.next(timeout=-1)


def test_start_positions(name):
    with shmring.Writer(name, capacity=1 << 16) as w:
        for i in range(5):
            w.publish(b"%d" % i)
        assert shmring.Reader(name, "oldest").next(0).seq == 0
        assert shmring.Reader(name, "latest").next(0).seq == 4
        assert shmring.Reader(name, 2).next(0).seq == 2
        end = shmring.Reader(name, "end")
        assert end.next(0) is None
        w.publish(b"5")
        assert end.next(0) == shmring.Message(5, b"5")
        with pytest.raises(OSError) as e:
            shmring.Reader(name, 99)        # not yet published
        assert e.value.errno == errno.ERANGE
        with pytest.raises(ValueError):
            shmring.Reader(name, "newest")
        with pytest.raises(TypeError):
            shmring.Reader(name, 1.5)


def test_overrun_is_an_item_with_exact_count(name):
    with shmring.Writer(name, capacity=1 << 16) as w:
        r = shmring.Reader(name)
        for i in range(10000):
            w.publish(b"x" * 100)
        oldest = shmring.info(name)["oldest_seq"]
        item = r.next(0)
        assert item == shmring.Overrun(lost=oldest, next=oldest)
        assert r.next(0).seq == oldest
        match item:
            case shmring.Overrun(lost, nxt):
                assert (lost, nxt) == (oldest, oldest)
            case _:
                pytest.fail("no match")


def test_read_batch(name):
    with shmring.Writer(name, capacity=1 << 20) as w:
        r = shmring.Reader(name)
        first = w.publish_batch(b"%05d" % i for i in range(3000))
        assert first == 0
        got = r.read_batch(1000)
        assert got == [shmring.Message(i, b"%05d" % i) for i in range(1000)]
        rest = r.read_batch(5000, timeout=0)
        assert [m.seq for m in rest] == list(range(1000, 3000))
        # A loss in the middle of a batch is an item in its place.
        w.publish(b"a")
        for i in range(20000):
            w.publish(b"y" * 100)
        batch = r.read_batch(100000, timeout=0)
        # A batch ends once it holds 64 KiB of payload; the rest follows.
        assert 600 < len(batch) <= 1 + 65536 // 104
        while more := r.read_batch(100000, timeout=0):
            batch += more
        assert isinstance(batch[0], shmring.Overrun)
        assert batch[0].next == batch[1].seq
        assert [m.seq for m in batch[1:]] == \
            list(range(batch[1].seq, 23001))
        with pytest.raises(ValueError):
            r.read_batch(0)


def test_readinto(name):
    import numpy as np
    with shmring.Writer(name, capacity=1 << 16) as w:
        r = shmring.Reader(name)
        w.publish(b"hello")
        buf = bytearray(16)
        assert r.readinto(buf) == 5 and buf[:5] == b"hello"
        assert r.last_seq == 0
        samples = np.arange(8, dtype="<f8")
        w.publish(samples)
        out = np.zeros(8, dtype="<f8")
        assert r.readinto(out) == 64
        assert (out == samples).all()
        w.publish(b"z" * 100)
        with pytest.raises(BufferError):
            r.readinto(bytearray(10))
        assert r.readinto(bytearray(100)) == 100   # did not move on
        with pytest.raises(TypeError):
            r.readinto(b"read-only")


def test_publish_batch_all_or_nothing(name):
    with shmring.Writer(name, capacity=1 << 16, max_msg=1024) as w:
        assert w.max_msg == 1024 and w.capacity == 1 << 16
        with pytest.raises(OSError) as e:
            w.publish_batch([b"ok", b"x" * 2000])
        assert e.value.errno == errno.EMSGSIZE
        assert w.next_seq == 0
        with pytest.raises(OSError):
            w.publish(b"x" * 1025)
        assert w.publish_batch([]) == 0


def test_errors(name):
    with pytest.raises(FileNotFoundError) as e:
        shmring.Reader(name)
    assert e.value.filename == name and "no such ring" in str(e.value)
    with pytest.raises(ValueError):
        shmring.Reader("../etc")
    with pytest.raises(ValueError):
        shmring.Writer(name, capacity=1000)
    with shmring.Writer(name, capacity=1 << 16):
        with pytest.raises(OSError) as e:
            shmring.Writer(name, capacity=1 << 16)
        assert e.value.errno == errno.EBUSY
    path = "/dev/shm/shmring." + name
    with open(path, "wb") as f:         # a foreign object
        f.write(b"\x7f" * (4096 + 65536))
    os.chmod(path, 0o600)
    with pytest.raises(shmring.CorruptRing):
        shmring.Reader(name)
    with pytest.raises(shmring.CorruptRing):
        shmring.info(name)
    os.chmod(path, 0o666)               # writable by others: refused
    with pytest.raises(PermissionError):
        shmring.Reader(name)
    os.unlink(path)


def test_closed_objects(name):
    w = shmring.Writer(name, capacity=1 << 16)
    r = shmring.Reader(name)
    r.close()
    assert r.closed
    with pytest.raises(ValueError):
        r.next()
    w.close()
    w.close()                           # again: nothing
    assert w.closed
    with pytest.raises(ValueError):
        w.publish(b"x")
    with pytest.raises(FileNotFoundError):   # close() unlinks by default
        shmring.Reader(name)


def test_close_keep_name(name):
    w = shmring.Writer(name, capacity=1 << 16)
    w.publish(b"kept")
    w.close(unlink=False)
    r = shmring.Reader(name)
    assert list(r) == [shmring.Message(0, b"kept")]
    assert shmring.info(name)["state"] == "closed"


def test_help_shows_the_api():
    import pydoc
    text = pydoc.render_doc(shmring.Reader, renderer=pydoc.plaintext)
    for word in ("read_batch", "readinto", "view", "Overrun", "timeout"):
        assert word in text
    assert "publish_batch" in pydoc.render_doc(shmring.Writer,
                                               renderer=pydoc.plaintext)
    assert shmring.View.check.__doc__
    assert shmring.libshm_version().startswith("0.")


# libshm/layout.h: struct seg_hdr puts sl (the header seqlock) at 4 * LINE
# and next_seq right after it; the test checks both before it writes.
SL_OFF, NEXT_SEQ_OFF = 512, 520


def test_a_producer_stopped_mid_update_is_waited_for(name):
    """libshm returns -EDEADLK (or -EAGAIN) rather than wait for a live
    producer stopped inside a header update; to Python that is "nothing
    yet": next() and read_batch() wait out their timeout (or return at
    once with timeout 0), and deliver once the update completes. An
    exception here ends every `async for` on a loaded machine."""
    import mmap
    import struct
    import threading
    w = shmring.Writer(name, capacity=1 << 16)
    r = shmring.Reader(name)
    for i in range(200):                # laps the reader: 200 KiB
        w.publish(bytes(1000))
    with open("/dev/shm/shmring." + name, "r+b") as f:
        hdr = mmap.mmap(f.fileno(), 4096)
    sl, nxt = struct.unpack_from("<QQ", hdr, SL_OFF)
    assert sl % 2 == 0 and nxt == 200, "layout.h moved sl: update SL_OFF"

    def update_done():
        struct.pack_into("<Q", hdr, SL_OFF, sl)

    # Lapped: finding where to continue reads the header under sl.
    struct.pack_into("<Q", hdr, SL_OFF, sl + 1)     # "inside an update"
    try:
        assert r.next(0) is None
        t0 = time.monotonic()
        assert r.next(timeout=0.2) is None
        assert time.monotonic() - t0 >= 0.15
        assert r.read_batch(10, timeout=0.05) == []
        assert r.view(timeout=0.05) is None
        assert r.wait(timeout=0.05) is False
        # The update completes while a reader waits: it goes on.
        done = threading.Timer(0.1, update_done)
        done.start()
        item = r.next(timeout=5)
        done.join()
    finally:
        update_done()
        hdr.close()
    assert isinstance(item, shmring.Overrun) and item.lost > 0
    assert item.lost + len(list(r.read_batch(1000, timeout=0))) == 200
    r.close()
    w.close()
