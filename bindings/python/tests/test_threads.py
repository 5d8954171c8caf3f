"""A Reader shared by threads: close() from one thread while another
waits in it must end that wait with an error, never a crash."""
import subprocess

import pytest

from conftest import python_child

# Run in a child: a use-after-free here would kill pytest itself.
CLOSE_WHILE_WAITING = r"""
import sys, threading, time
import shmring

name, how = sys.argv[1], sys.argv[2]
w = shmring.Writer(name, capacity=1 << 16, max_msg=1024)
r = shmring.Reader(name)
out = []

def blocked():
    try:
        if how == "next":
            out.append(r.next(timeout=30))
        elif how == "iter":
            out.extend(r)
        elif how == "read_batch":
            out.append(r.read_batch(16, timeout=30))
        elif how == "readinto":
            out.append(r.readinto(bytearray(1024), timeout=30))
        elif how == "view":
            out.append(r.view(timeout=30))
        elif how == "wait":
            out.append(r.wait(timeout=30))
    except Exception as e:
        out.append(e)

t = threading.Thread(target=blocked)
t0 = time.monotonic()
t.start()
time.sleep(0.3)                 # the thread is in its wait now
r.close()
w.publish(b"x" * 100)           # wakes the wait, as a live ring would
t.join(20)
assert not t.is_alive(), "still blocked"
e = out[0]
assert isinstance(e, ValueError) and "closed" in str(e), repr(e)
assert time.monotonic() - t0 < 10
w.close()
print("ok")
"""


@pytest.mark.parametrize("how", ["next", "iter", "read_batch", "readinto",
                                 "view", "wait"])
def test_close_while_another_thread_waits(name, how):
    p = python_child(CLOSE_WHILE_WAITING, name, how)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    assert p.returncode == 0 and out.strip() == "ok", (p.returncode, out)
