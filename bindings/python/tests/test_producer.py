"""Against C producers in other processes: exact overrun, restart, end of
stream, blocking waits that release the GIL and use no CPU."""
import resource
import threading
import time

import shmring


def test_overrun_exact_count_c_producer(name, feed):
    f = feed(name, 65536)
    f.cmd("n 1 10")
    r = shmring.Reader(name)
    f.cmd("n 20000 100")                # laps the 64 KiB ring many times
    next_seq, oldest, _ = f.info()
    assert next_seq == 20001
    item = r.next(0)
    # The reader was at seq 0: exactly oldest messages are gone.
    assert item == shmring.Overrun(lost=oldest, next=oldest)
    msgs = r.read_batch(100000, timeout=0)
    assert [m.seq for m in msgs] == list(range(oldest, next_seq))
    for m in msgs:
        assert m.data.startswith(b"msg-%d" % m.seq) and len(m.data) == 100
    f.end("close")
    assert list(r) == [] and r.eof


def test_eof_after_last_message(name, feed):
    f = feed(name)
    r = shmring.Reader(name)
    f.cmd("n 5 20")
    f.end("close")
    got = [m.seq for m in r]
    assert got == [0, 1, 2, 3, 4]


def test_restart_after_producer_death(name, feed):
    f = feed(name)
    r = shmring.Reader(name)
    f.cmd("n 3 10")
    e1 = r.epoch
    f.end("die")                        # no close: a dead producer
    g = feed(name)                      # takes the name over: a new epoch
    g.cmd("n 2 10")
    items = [r.next(timeout=10) for _ in range(6)]
    assert [type(i).__name__ for i in items] == \
        ["Message"] * 3 + ["Restart"] + ["Message"] * 2
    # epochs are creation times in microseconds (libshm(3))
    assert items[3] == shmring.Restart(next=0, epoch=r.epoch)
    assert [i.seq for i in items[4:]] == [0, 1]
    assert r.epoch > e1
    g.end("close")
    assert list(r) == []


def test_blocking_wait_releases_gil_and_burns_no_cpu(name, feed):
    f = feed(name)
    r = shmring.Reader(name)
    got = []
    t = threading.Thread(target=lambda: got.append(r.next(timeout=30)))
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t.start()
    # The main thread keeps running Python code while the reader waits.
    ticks = 0
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        ticks += 1
        time.sleep(0.001)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    assert ticks > 100
    assert cpu < 0.3, "a waiting reader used %.2f s CPU in 1 s" % cpu
    f.cmd("pub wake")
    t.join(10)
    assert not t.is_alive()
    assert got == [shmring.Message(0, b"wake")]


def test_sigint_interrupts_a_blocking_wait(name, feed):
    import os
    import signal
    f = feed(name)
    r = shmring.Reader(name)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        r.next()
        raise AssertionError("next() returned")
    except KeyboardInterrupt:
        pass
    assert time.monotonic() - t0 < 5
    f.cmd("pub after")
    assert r.next(5) == shmring.Message(0, b"after")


def test_writer_in_a_forked_child_refuses_and_frees(name):
    """Only the process that created a writer may publish: in a child of
    fork() it raises ChildProcessError (ECHILD), and the child's close
    neither ends the stream nor keeps the ring alive after the parent."""
    import os
    w = shmring.Writer(name, capacity=1 << 16)
    w.publish(b"a")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                w.publish(b"x")
            except ChildProcessError:
                w.close()
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    w.publish(b"b")                     # the parent's writer is untouched
    r = shmring.Reader(name, start="oldest")
    assert [r.next(1).data, r.next(1).data] == [b"a", b"b"]
    r.close()
    w.close()
