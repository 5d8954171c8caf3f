"""bench_python.py - moving messages into Python: shmring against what a
Python user would pick instead (`make bench`; a report, not a test).

For 64 B and 1 KiB messages, one producer process publishes COUNT
messages as fast as it can and one Python reader receives them all; the
rate is messages received / time from the first message to the last.
shmring rows use a C producer (bench_feed) and a ring large enough that
nothing is lost. "live": the reader follows the producer (started before
it; the rate is then bounded by the producer, which faults in the ring's
fresh pages as it goes); the other shmring rows drain a ring the producer
has just filled, which measures what the Python side costs. Rows:

  shmring iter (live) for item in reader, producer running
  shmring iter        for item in reader            (a Message per item)
  shmring read_batch  reader.read_batch(4096)       (lists of Messages,
                      each of up to 64 KiB of payload)
  shmring readinto    reader.readinto(bytearray)    (no object per message)
  shmring numpy view  numpy.frombuffer(reader.view(), f8), a[0], check()
                      (f8 = numpy.dtype('<f8'), made once)
  pyzmq SUB           sub.recv() from a PUB in another process (tcp)
  mp.Pipe             conn.recv_bytes() from a Process's send_bytes()
  mp.Queue            queue.get() from a Process's put()
  redis pub/sub       pubsub.get_message() from a redis-server (127.0.0.1,
                      free port, killed by PID), publisher pipelines 1000

Besides the rate, each row gives the reader's CPU time per message
(process_time over the loop, all the reader process's threads, so pyzmq's
I/O thread counts): on a loaded machine that is the steadier figure.
The peers' producers are Python processes (their protocols need them);
each row also prints the producer's own send rate, so a row limited by
its producer shows it. Then: a Python producer, Writer.publish() and
publish_batch() flat out with no reader.

Usage: bench_python.py --feed PATH [--quick]
"""
import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import shmring

try:
    import numpy as np
except ImportError:             # the numpy row is skipped
    np = None
try:
    import zmq
except ImportError:
    zmq = None
try:
    import redis
except ImportError:
    redis = None


def pow2_at_least(n):
    p = 1 << 16
    while p < n:
        p <<= 1
    return p


def ring_name(tag):
    return "pybench%d-%s" % (os.getpid(), tag)


# ---- shmring rows -------------------------------------------------------

def shm_row(feed, size, count, how, live=False):
    name = ring_name("%s-%d" % (how.replace(" ", "_"), size))
    cap = pow2_at_least(count * (size + 24) + (1 << 20))
    p = subprocess.Popen([feed, name, str(cap), str(size), str(count)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        r = shmring.Reader(name)
        p.stdin.write("go\n")
        p.stdin.flush()
        n = lost = 0
        if not live:            # drain a full ring: the reader's own cost
            prod = float(p.stdout.readline().split()[1])
        r.wait()
        c0 = time.process_time()
        t0 = time.perf_counter()
        if how == "iter":
            for item in r:
                n += 1
        elif how == "read_batch":
            while True:
                try:
                    n += len(r.read_batch(4096))
                except EOFError:
                    break
        elif how == "readinto":
            buf = bytearray(size)
            readinto = r.readinto
            while True:
                try:
                    readinto(buf)
                except EOFError:
                    break
                n += 1
        elif how == "numpy view":
            s = 0.0
            view, frombuffer = r.view, np.frombuffer
            f8 = np.dtype("<f8")    # a dtype string costs ~85 ns a call
            while True:
                try:
                    v = view()
                except EOFError:
                    break
                a = frombuffer(v, f8)
                s += a[0]
                v.check()
                n += 1
        t1 = time.perf_counter()
        cpu = time.process_time() - c0
        if live:
            prod = float(p.stdout.readline().split()[1])
        p.wait()
        r.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        try:
            shmring.unlink(name)
        except OSError:
            pass
    if n != count:
        lost = count - n
    return n / (t1 - t0), count / prod, lost, cpu / max(n, 1)


# ---- peers ----------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed_send(send, size, count, end):
    """Send count payloads of size bytes, then end; the send rate."""
    payload = b"x" * size
    t0 = time.perf_counter()
    for _ in range(count):
        send(payload)
    t1 = time.perf_counter()
    send(end)
    return count / (t1 - t0)


def timed_recv(recv, m, end):
    """Receive from m (the first message) up to end: (count, seconds,
    reader CPU seconds per message)."""
    n = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while m != end:
        n += 1
        m = recv()
    secs = time.perf_counter() - t0
    return n, secs, (time.process_time() - c0) / max(n, 1)


def zmq_producer(port, size, count, go, out):
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.bind("tcp://127.0.0.1:%d" % port)
    # Slow joiner: say hello until the subscriber has seen one.
    while not go.wait(0.01):
        pub.send(b"h")
    out.put(timed_send(pub.send, size, count, b""))
    pub.close(linger=-1)
    ctx.term()


def zmq_row(size, count):
    port = free_port()
    go, out = mp.Event(), mp.Queue()
    p = mp.Process(target=zmq_producer, args=(port, size, count, go, out))
    p.start()
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect("tcp://127.0.0.1:%d" % port)
    sub.recv()                  # a hello: the subscription is live
    go.set()
    m = sub.recv()
    while m == b"h":
        m = sub.recv()
    n, secs, cpu = timed_recv(sub.recv, m, b"")
    prod = out.get()
    p.join()
    sub.close()
    ctx.term()
    return n / secs, prod, count - n, cpu


def pipe_producer(conn, size, count, out):
    out.put(timed_send(conn.send_bytes, size, count, b""))


def pipe_row(size, count):
    rx, tx = mp.Pipe(duplex=False)
    out = mp.Queue()
    p = mp.Process(target=pipe_producer, args=(tx, size, count, out))
    p.start()
    n, secs, cpu = timed_recv(rx.recv_bytes, rx.recv_bytes(), b"")
    prod = out.get()
    p.join()
    return n / secs, prod, count - n, cpu


def queue_producer(q, size, count, out):
    out.put(timed_send(q.put, size, count, None))


def queue_row(size, count):
    q, out = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_producer, args=(q, size, count, out))
    p.start()
    n, secs, cpu = timed_recv(q.get, q.get(), None)
    prod = out.get()
    p.join()
    return n / secs, prod, count - n, cpu


def redis_producer(port, size, count, out):
    c = redis.Redis(port=port)
    payload = b"x" * size
    t0 = time.perf_counter()
    for i in range(0, count, 1000):
        pipe = c.pipeline(transaction=False)
        for _ in range(min(1000, count - i)):
            pipe.publish("bench", payload)
        pipe.execute()
    t1 = time.perf_counter()
    c.publish("bench", b"")
    out.put(count / (t1 - t0))


class RedisServer:
    """redis-server on a free 127.0.0.1 port, no persistence, no output
    buffer limit for subscribers (a slow one would be disconnected)."""

    def __init__(self):
        self.port = free_port()
        self.p = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port",
             str(self.port), "--save", "", "--appendonly", "no",
             "--client-output-buffer-limit", "pubsub 0 0 0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                c.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.025)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()


def redis_row(server, size, count):
    c = redis.Redis(port=server.port)
    ps = c.pubsub(ignore_subscribe_messages=True)
    ps.subscribe("bench")
    ps.get_message(timeout=1)
    out = mp.Queue()
    p = mp.Process(target=redis_producer,
                   args=(server.port, size, count, out))
    p.start()
    get = ps.get_message
    n = 0
    m = None
    while m is None:
        m = get(timeout=10)
    c0 = time.process_time()
    t0 = time.perf_counter()
    while m is None or m["data"]:
        if m is not None:
            n += 1
        m = get(timeout=10)
    t1 = time.perf_counter()
    cpu = (time.process_time() - c0) / max(n, 1)
    prod = out.get()
    p.join()
    ps.close()
    return n / (t1 - t0), prod, count - n, cpu


# ---- the Python producer --------------------------------------------------

def producer_rows(size, count):
    name = ring_name("pub-%d" % size)
    rows = []
    payload = b"x" * size
    with shmring.Writer(name, capacity=1 << 26) as w:
        publish = w.publish
        t0 = time.perf_counter()
        for _ in range(count):
            publish(payload)
        rows.append(("Writer.publish", count / (time.perf_counter() - t0)))
        batch = [payload] * 1000
        t0 = time.perf_counter()
        for _ in range(count // 1000):
            w.publish_batch(batch)
        rows.append(("Writer.publish_batch(1000)",
                     count // 1000 * 1000 / (time.perf_counter() - t0)))
    return rows


def fmt(rate):
    return "%8.2f M/s" % (rate / 1e6) if rate >= 1e5 else \
        "%8.1f k/s" % (rate / 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feed", required=True, help="path of bench_feed")
    ap.add_argument("--quick", action="store_true", help="a smoke run")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per row; the best is reported (default 3)")
    args = ap.parse_args()
    scale = 0.05 if args.quick else 1.0
    runs = 1 if args.quick else args.runs

    def count(n):
        return max(int(n * scale), 1000)

    print("# bench_python: Python %s, numpy %s, pyzmq %s, redis-py %s, "
          "libshm %s" % (sys.version.split()[0],
                         np.__version__ if np else "-",
                         zmq.__version__ if zmq else "-",
                         redis.__version__ if redis else "-",
                         shmring.libshm_version()))
    print("# %d CPUs, load average before: %.2f %.2f %.2f" %
          ((os.cpu_count() or 0,) + os.getloadavg()))
    server = None
    if redis is not None and shutil.which("redis-server"):
        server = RedisServer()
    results, cpu = {}, {}
    try:
        for size in (64, 1024):
            n_shm = count(2000000 if size == 64 else 500000)
            n_peer = count(300000 if size == 64 else 150000)
            rows = [("shmring iter (live)", lambda: shm_row(
                        args.feed, size, n_shm, "iter", live=True)),
                    ("shmring iter", lambda: shm_row(args.feed, size, n_shm,
                                                     "iter")),
                    ("shmring read_batch", lambda: shm_row(
                        args.feed, size, n_shm, "read_batch")),
                    ("shmring readinto", lambda: shm_row(
                        args.feed, size, n_shm, "readinto"))]
            if np is not None:
                rows.append(("shmring numpy view", lambda: shm_row(
                    args.feed, size, n_shm, "numpy view")))
            if zmq is not None:
                rows.append(("pyzmq SUB", lambda: zmq_row(size, n_peer)))
            rows.append(("mp.Pipe", lambda: pipe_row(size, n_peer)))
            rows.append(("mp.Queue", lambda: queue_row(size, n_peer)))
            if server is not None:
                rows.append(("redis pub/sub", lambda: redis_row(
                    server, size, n_peer // 2)))
            print("\n## %d-byte messages, 1 producer -> 1 Python reader, "
                  "best of %d" % (size, runs))
            print("%-22s %12s %14s %6s %14s" % (
                "reader", "received", "producer sent", "lost",
                "reader CPU/msg"))
            for label, fn in rows:
                best = max((fn() for _ in range(runs)),
                           key=lambda r: r[0])
                results[(size, label)] = best[0]
                cpu[(size, label)] = best[3]
                print("%-22s %12s %12s   %6d %11.0f ns" % (
                    label, fmt(best[0]), fmt(best[1]), best[2],
                    best[3] * 1e9), flush=True)
            peers = [results[(size, k)] for k in
                     ("pyzmq SUB", "mp.Pipe", "mp.Queue", "redis pub/sub")
                     if (size, k) in results]
            if peers:
                top = max(peers)
                least = min(cpu[(size, k)] for k in
                            ("pyzmq SUB", "mp.Pipe", "mp.Queue",
                             "redis pub/sub") if (size, k) in cpu)
                print("ratios to the best peer: received rate (best %s), "
                      "reader CPU per message (least %.0f ns):" %
                      (fmt(top).strip(), least * 1e9))
                for k in ("shmring iter (live)", "shmring iter",
                          "shmring read_batch",
                          "shmring readinto", "shmring numpy view"):
                    if (size, k) in results:
                        print("  %-20s %6.1fx %6.1fx" % (
                            k, results[(size, k)] / top,
                            least / cpu[(size, k)]))
    finally:
        if server is not None:
            server.stop()
    print("\n## Python producer, 64 B, no reader, best of %d" % runs)
    best = {}
    for _ in range(runs):
        for label, rate in producer_rows(64, count(2000000)):
            best[label] = max(best.get(label, 0), rate)
    for label, rate in best.items():
        print("%-28s %s" % (label, fmt(rate)))
    print("\n# load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
