"""Owners of what runs start, and `rollout clean` on the process backend.

A harness killed with SIGKILL stays a zombie until its parent reaps it; every
backend must count such an owner as dead, or its leftovers stay until the
parent exits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.backends.ownership import owner, owner_alive, pid_alive
from harness.backends.process import OWNER_ENV, RUN_ENV, clean_processes


def state(pid: int) -> str:
    """The process's state letter in /proc (``Z`` for a zombie)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


@pytest.fixture
def zombie() -> Iterator[int]:
    """The pid of a child that exited and is not reaped yet."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while state(child.pid) != "Z":
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.05)
    yield child.pid
    child.wait()


def test_this_process_is_alive() -> None:
    assert pid_alive(os.getpid())
    assert owner_alive(owner())


def test_a_zombie_is_dead(zombie: int) -> None:
    assert not pid_alive(zombie)
    assert not owner_alive(f"{socket.gethostname()}:{zombie}")


@pytest.mark.parametrize(
    ("text", "alive"),
    [
        pytest.param("build-agent-7.example:1", True, id="another-host"),
        pytest.param("", False, id="empty"),
        pytest.param("no-pid-here", False, id="no-pid"),
        pytest.param(f"{socket.gethostname()}:0", False, id="pid-zero"),
    ],
)
def test_owners_this_host_cannot_judge(text: str, alive: bool) -> None:
    # Another host's run may live: its leftovers are never removed from here.
    assert owner_alive(text) is alive


def test_clean_stops_processes_whose_owner_is_a_zombie(zombie: int) -> None:
    run_id = f"test-zombie-{os.getpid()}"
    left = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, RUN_ENV: run_id, OWNER_ENV: str(zombie)},
        start_new_session=True,
    )
    try:
        stopped = clean_processes(run_id)

        assert stopped == [f"process {left.pid} of run {run_id}"]
        assert left.wait(timeout=10) != 0
    finally:
        left.kill()
        left.wait()


def test_clean_leaves_processes_of_a_live_owner() -> None:
    run_id = f"test-live-{os.getpid()}"
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, RUN_ENV: run_id, OWNER_ENV: str(os.getpid())},
        start_new_session=True,
    )
    try:
        assert clean_processes(run_id) == []
        assert mine.poll() is None
    finally:
        mine.kill()
        mine.wait()
