"""shmring: shared-memory broadcast rings from Python, over libshm.

One producer (a Writer) publishes messages into a named ring in POSIX
shared memory; any number of Readers, in any process, follow it at their
own pace. The producer never waits for readers: a reader that falls a
ring behind gets an Overrun item with the exact number of messages lost.

    import shmring

    with shmring.Writer("ticks", capacity=1 << 20) as w:
        w.publish(b"hello")                  # -> sequence number 0
        with shmring.Reader("ticks", start="oldest") as r:
            for item in r:                   # Message, Overrun, Restart
                if isinstance(item, shmring.Message):
                    print(item.seq, item.data)
                break

Reading: iterate (blocking, GIL released), next(timeout=...),
read_batch(n), readinto(buffer), view() (zero copy, for numpy), or
`async for item in reader` under asyncio. See help(shmring.Reader).
Inspecting: shmring.info(name), shmring.list() (what `ringctl info/list
--json` shows).
"""
import asyncio
import os
import pwd
import time

from ._shmring import (CAP_MAX, CAP_MIN, NAME_MAX, CorruptRing, Message,
                       Overrun, Overwritten, Reader, Restart, View, Writer,
                       libshm_version, unlink)
from . import _shmring

__all__ = ["Writer", "Reader", "Message", "Overrun", "Restart", "View",
           "CorruptRing", "Overwritten", "info", "list", "unlink",
           "libshm_version", "CAP_MIN", "CAP_MAX", "NAME_MAX"]

_STATES = {0: "init", 2: "closed", 3: "replaced"}


def _woken(fd, fut):
    try:
        os.eventfd_read(fd)
    except BlockingIOError:
        pass
    if not fut.done():
        fut.set_result(None)


async def _anext(reader):
    """One step of `async for item in reader`.

    Reads without waiting; when there is nothing, asks the reader's
    helper thread to wait on the ring (the futex cannot be polled) and
    awaits its eventfd through the running loop.
    """
    loop = asyncio.get_running_loop()
    while True:
        try:
            item = reader.next(0)
        except EOFError:
            raise StopAsyncIteration from None
        if item is not None:
            return item
        fd = reader._arm()
        fut = loop.create_future()
        loop.add_reader(fd, _woken, fd, fut)
        try:
            await fut
        finally:
            loop.remove_reader(fd)


_shmring._set_anext(_anext)


def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _cook(name, raw, now_ns):
    """The fields of `ringctl info --json`, from a raw header snapshot."""
    state = _STATES.get(raw["state_code"])
    if raw["state_code"] == 1:
        state = "live" if raw["alive"] else "dead"
    last = raw["last_publish_ns"]
    return {
        "name": name,
        "state": state or "unknown",
        "alive": raw["alive"],
        "pid": raw["pid"],
        "epoch": raw["epoch"],
        "layout_version": raw["layout_version"],
        "capacity": raw["capacity"],
        "max_msg": raw["max_msg"],
        "used": raw["used"],
        "messages": raw["messages"],
        "bytes": raw["bytes"],
        "next_seq": raw["next_seq"],
        "oldest_seq": raw["oldest_seq"],
        "available": raw["next_seq"] - raw["oldest_seq"],
        "created_ns": raw["created_ns"],
        "last_publish_ns": last,
        "last_publish_age_s":
            round(max(now_ns - last, 0) / 1e9, 3) if last else None,
        "uid": raw["uid"],
        "owner": _owner(raw["uid"]),
        "mode": "%04o" % (raw["mode"] & 0o7777),
    }


def info(name):
    """A snapshot of ring `name`: the dict `ringctl info --json` prints.

    Keys: name, state ('live', 'dead', 'closed', 'replaced', 'init'),
    alive, pid, epoch, layout_version, capacity, max_msg, used, messages,
    bytes, next_seq, oldest_seq, available, created_ns, last_publish_ns,
    last_publish_age_s, uid, owner, mode. Like ringctl, any owner is
    accepted (the ring is only inspected).
    Raises FileNotFoundError, PermissionError or CorruptRing.
    """
    return _cook(name, _shmring._raw_info(name), time.time_ns())


def list(rate_interval=0.1):
    """Every ring in /dev/shm: the "rings" list of `ringctl list --json`.

    Each entry has name, capacity, max_msg, messages, bytes, next_seq,
    oldest_seq, used, rate (messages/s over rate_interval seconds, None
    if not measured), state, alive, pid, epoch, uid, owner and mode; a
    ring that cannot be read has name, error and, if known, uid, owner,
    mode. Objects that are not rings are left out. rate_interval=0
    skips the rate (and the pause it takes when a producer is live).
    """
    keys = ("name", "capacity", "max_msg", "messages", "bytes", "next_seq",
            "oldest_seq", "used", "rate", "state", "alive", "pid", "epoch",
            "uid", "owner", "mode")
    first = {}
    out = []
    for name in sorted(_shmring._names()):
        try:
            first[name] = _shmring._raw_info(name)
        except CorruptRing as e:
            if e.errno == 71:       # EPROTO: not a ring, as ringctl skips
                continue
            out.append(_unreadable(name, e))
        except OSError as e:
            out.append(_unreadable(name, e))
    live = any(r["state_code"] == 1 and r["alive"] for r in first.values())
    t0 = time.monotonic()
    if live and rate_interval > 0:
        time.sleep(rate_interval)
    elapsed = time.monotonic() - t0
    now = time.time_ns()
    for name, a in first.items():
        try:
            b = _shmring._raw_info(name)
        except OSError:
            b = a
        entry = _cook(name, b, now)
        rate = None
        if b["state_code"] != 1 or not b["alive"]:
            rate = 0.0
        elif live and rate_interval > 0 and b["epoch"] == a["epoch"] and \
                b["messages"] >= a["messages"]:
            rate = round((b["messages"] - a["messages"]) / elapsed, 3)
        entry["rate"] = rate
        out.append({k: entry[k] for k in keys})
    out.sort(key=lambda e: e["name"])
    return out


def _unreadable(name, exc):
    entry = {"name": name, "error": exc.strerror or str(exc)}
    try:
        st = os.stat("/dev/shm/shmring." + name)
    except OSError:
        return entry
    entry.update(uid=st.st_uid, owner=_owner(st.st_uid),
                 mode="%04o" % (st.st_mode & 0o7777))
    return entry
