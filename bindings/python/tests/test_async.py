"""asyncio: `async for` over several readers in one loop, which never
blocks while they wait."""
import asyncio
import sys
import threading
import time

import shmring


def test_async_for_several_readers(name):
    n_readers, n_msgs = 4, 2000

    async def consume(r):
        seqs = []
        async for item in r:
            assert isinstance(item, shmring.Message)
            assert item.data == b"%d" % item.seq
            seqs.append(item.seq)
        return seqs

    async def ticker(stop):
        ticks = 0
        while not stop.is_set():
            await asyncio.sleep(0.001)
            ticks += 1
        return ticks

    def produce(w):
        for i in range(n_msgs):
            w.publish(b"%d" % i)
            if i % 100 == 0:
                time.sleep(0.01)        # readers catch up and wait
        w.close()

    async def main():
        w = shmring.Writer(name, capacity=1 << 20)
        readers = [shmring.Reader(name) for _ in range(n_readers)]
        stop = asyncio.Event()
        tick = asyncio.ensure_future(ticker(stop))
        t = threading.Thread(target=produce, args=(w,))
        t.start()
        results = await asyncio.wait_for(
            asyncio.gather(*(consume(r) for r in readers)), 60)
        stop.set()
        ticks = await tick
        t.join()
        for r in readers:
            r.close()
        return results, ticks

    results, ticks = asyncio.run(main())
    for seqs in results:
        assert seqs == list(range(n_msgs))
    assert ticks > 20                   # the loop ran while readers waited


def test_async_sees_overrun_and_restart(name, feed):
    f = feed(name)
    r = shmring.Reader(name)

    async def main():
        got = []
        f.cmd("n 1 10")
        f.cmd("n 5000 100")
        _, oldest, _ = f.info()
        f.end("die")
        g = feed(name)
        g.cmd("pub new")
        g.end("close")
        async for item in r:
            got.append(item)
        return got, oldest

    got, oldest = asyncio.run(asyncio.wait_for(main(), 30))
    assert got[0] == shmring.Overrun(lost=oldest, next=oldest)
    # epochs are creation times in microseconds (libshm(3))
    assert got[-2] == shmring.Restart(next=0, epoch=r.epoch)
    assert got[-1] == shmring.Message(0, b"new")
    assert [m.seq for m in got[1:-2]] == list(range(oldest, 5001))


def test_async_cancel_then_close(name):
    w = shmring.Writer(name, capacity=1 << 16)
    r = shmring.Reader(name)

    async def main():
        task = asyncio.ensure_future(r.__anext__())
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        w.publish(b"after")
        return await asyncio.wait_for(r.__anext__(), 5)

    assert asyncio.run(main()) == shmring.Message(0, b"after")
    t0 = time.monotonic()
    r.close()                           # joins the helper thread
    assert time.monotonic() - t0 < 1
    w.close()


def test_async_reader_in_a_forked_child(name):
    """A reader used with asyncio, then fork(): the child has no helper
    thread; it makes its own, and closing does not wait for a thread that
    is not there."""
    import os
    import traceback
    w = shmring.Writer(name, capacity=1 << 16)
    r = shmring.Reader(name)

    # Wait before "a" exists, so that the helper thread is started and
    # has been through a whole wait before we fork. Forking while
    # pthread_create's new thread is still starting up deadlocks the
    # child under ASan (gcc 12's allocator lock is not fork-safe; glibc's
    # malloc is), which is not what this test is about.
    async def one():
        asyncio.get_running_loop().call_later(0.05, w.publish, b"a")
        return await asyncio.wait_for(r.__anext__(), 10)

    assert asyncio.run(one()) == shmring.Message(0, b"a")

    async def after_fork():             # waits first, then data comes
        return await asyncio.wait_for(r.__anext__(), 10)

    r._arm()                            # the helper waits while we fork
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            got = asyncio.run(after_fork())
            if got != shmring.Message(1, b"b"):
                print("child got", got, file=sys.stderr)
            r.close()
            code = 0 if got == shmring.Message(1, b"b") else 1
        except BaseException:           # say why before _exit hides it
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    # Only the process that created a writer may publish (libshm(3)).
    time.sleep(0.05)
    w.publish(b"b")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    r.close()
    w.close()


def test_close_while_a_task_awaits(name):
    """close() from another task ends a pending `async for` with the
    closed-reader error (it used to leave the task waiting forever on an
    eventfd nobody would write)."""
    w = shmring.Writer(name, capacity=1 << 16)
    r = shmring.Reader(name)

    async def consume():
        async for item in r:
            pass

    async def main():
        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.2)        # the task awaits the helper now
        t0 = time.monotonic()
        r.close()
        try:
            await asyncio.wait_for(task, 10)
        except ValueError as e:
            return str(e), time.monotonic() - t0
        return None, None

    err, took = asyncio.run(main())
    assert err is not None and "closed" in err
    assert took < 5
    w.close()
