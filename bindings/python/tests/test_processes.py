"""A Writer and a Reader in different Python processes (rings large
enough to hold every message: no loss however slow the other side)."""
import shmring
from conftest import python_child

WRITER = """
import sys, shmring
name, n = sys.argv[1], int(sys.argv[2])
with shmring.Writer(name, capacity=1 << 23) as w:
    print("ready", flush=True)
    for i in range(n):
        w.publish(b"p%d" % i)
    w.close(unlink=False)
print("done", flush=True)
"""

READER = """
import sys, shmring
r = shmring.Reader(sys.argv[1])
print("ready", flush=True)
n = 0
for item in r:
    assert item == shmring.Message(n, b"c%d" % n), item
    n += 1
print(n, flush=True)
"""


def test_python_writer_process(name):
    import time
    p = python_child(WRITER, name, 50000)
    assert p.stdout.readline().strip() == "ready"
    r = None
    for _ in range(100):
        try:
            r = shmring.Reader(name)
            break
        except (FileNotFoundError, BlockingIOError):
            time.sleep(0.01)
    items = list(r)
    assert p.stdout.readline().strip() == "done"
    assert p.wait(30) == 0
    assert items == [shmring.Message(i, b"p%d" % i) for i in range(50000)]


def test_python_reader_process(name):
    with shmring.Writer(name, capacity=1 << 23) as w:
        p = python_child(READER, name)
        assert p.stdout.readline().strip() == "ready"
        for i in range(50000):
            w.publish(b"c%d" % i)
    assert p.stdout.readline().strip() == "50000"
    assert p.wait(30) == 0
