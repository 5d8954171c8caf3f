"""shmring.info() and shmring.list() against `ringctl info/list --json`."""
import json
import os
import subprocess

import pytest

import shmring
from conftest import ROOT

RINGCTL = os.environ.get("SHMRING_RINGCTL",
                         os.path.join(ROOT, "build", "bin", "ringctl"))
STABLE = ("name", "state", "alive", "pid", "epoch", "layout_version",
          "capacity", "max_msg", "used", "messages", "bytes", "next_seq",
          "oldest_seq", "available", "created_ns", "last_publish_ns",
          "uid", "owner", "mode")


def ringctl(*args):
    if not os.access(RINGCTL, os.X_OK):
        pytest.skip("no ringctl at " + RINGCTL)
    out = subprocess.run([RINGCTL, "--json"] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_info_matches_ringctl(name):
    with shmring.Writer(name, capacity=1 << 16, mode=0o640) as w:
        w.publish_batch([b"abc"] * 10)
        mine = shmring.info(name)
        theirs = ringctl("info", name)
        assert list(mine) == list(theirs)
        for k in STABLE:
            assert mine[k] == theirs[k], k
        assert mine["mode"] == "0640" and mine["state"] == "live"
        assert mine["messages"] == 10 and mine["bytes"] == 30
        assert w.info()["next_seq"] == 10
        assert shmring.Reader(name).info()["capacity"] == 1 << 16


def test_list_matches_ringctl(name):
    with shmring.Writer(name, capacity=1 << 16) as w:
        w.publish(b"x")
        mine = {e["name"]: e for e in shmring.list(rate_interval=0)}
        theirs = {e["name"]: e for e in ringctl("list")["rings"]}
        assert name in mine and name in theirs
        assert list(mine[name]) == list(theirs[name])
        for k in mine[name]:
            if k not in ("rate",):
                assert mine[name][k] == theirs[name][k], k
        assert mine[name]["rate"] is None
    assert name not in {e["name"] for e in shmring.list(rate_interval=0)}


def test_list_reports_unreadable(name):
    path = "/dev/shm/shmring." + name
    with open(path, "wb") as f:
        f.write(b"\0" * 100)
    try:
        entries = {e["name"]: e for e in shmring.list(rate_interval=0)}
        theirs = {e["name"]: e for e in ringctl("list")["rings"]}
        assert (name in entries) == (name in theirs)
        if name in entries:
            assert "error" in entries[name]
            assert set(entries[name]) == set(theirs[name])
    finally:
        os.unlink(path)
