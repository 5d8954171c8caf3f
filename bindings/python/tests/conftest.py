"""Fixtures of the shmring binding's tests.

Run by `make test` (PYTHONPATH=build/python, SHMRING_FEED and
SHMRING_BENCH_FEED name the C producers built for the run).
"""
import itertools
import os
import subprocess
import sys

import pytest

import shmring

_count = itertools.count()
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
FEED = os.environ.get("SHMRING_FEED",
                      os.path.join(ROOT, "build", "tests", "ringctl_feed"))
BENCH_FEED = os.environ.get("SHMRING_BENCH_FEED",
                            os.path.join(ROOT, "build", "python",
                                         "bench_feed"))
# Slow runs (ASan) get longer timeouts and fewer messages where counts
# are not the point.
SLOW = bool(os.environ.get("SHMRING_SAN"))


@pytest.fixture
def name(request):
    """A ring name unique to this test run (pid + counter), removed after."""
    n = "py%d-%d" % (os.getpid(), next(_count))
    yield n
    for x in (n,):
        try:
            shmring.unlink(x)
        except OSError:
            pass


class Feed:
    """ringctl_feed, the scriptable C producer of tests/ringctl_feed.c."""

    def __init__(self, ring, capacity=65536, max_msg=0):
        self.p = subprocess.Popen(
            [FEED, ring, str(capacity), str(max_msg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.strip() == "ok", line

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline().strip()
        assert reply.startswith("ok"), (line, reply)
        return reply[2:].split()

    def info(self):
        next_seq, oldest, pid = (int(x) for x in self.cmd("info"))
        return next_seq, oldest, pid

    def end(self, how="close"):
        self.p.stdin.write(how + "\n")
        self.p.stdin.flush()
        self.p.stdout.readline()
        assert self.p.wait(timeout=30) == 0

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def feed():
    feeds = []

    def start(ring, capacity=65536, max_msg=0):
        f = Feed(ring, capacity, max_msg)
        feeds.append(f)
        return f
    yield start
    for f in feeds:
        f.kill()


class BenchFeed:
    """bench_feed: COUNT messages of SIZE bytes, f64 words = seq, then EOF."""

    def __init__(self, ring, capacity, size, count):
        self.p = subprocess.Popen(
            [BENCH_FEED, ring, str(capacity), str(size), str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready"

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def wait(self):
        line = self.p.stdout.readline()
        assert self.p.wait(timeout=120) == 0
        return float(line.split()[1])

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def bench_feed():
    feeds = []

    def start(ring, capacity, size, count):
        f = BenchFeed(ring, capacity, size, count)
        feeds.append(f)
        return f
    yield start
    for f in feeds:
        f.kill()


def python_child(code, *args):
    """Start `python3 -c code args...` with this interpreter and path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.Popen([sys.executable, "-c", code] + [str(a)
                            for a in args], env=env, stdout=subprocess.PIPE,
                            text=True)
