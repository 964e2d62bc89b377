"""Who owns what a run starts, and whether that owner still lives.

Everything a backend starts names its owner: the harness process, as
``host:pid`` (labels, annotations) or as a bare pid (a process's environment).
`rollout clean` removes only what belongs to owners that are gone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["owner", "owner_alive", "pid_alive"]


def owner() -> str:
    """The owner of what this process starts: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(text: str) -> bool:
    """Whether the ``host:pid`` owner still lives.

    An owner on another host counts as alive: this host cannot tell, and
    removing a live run's instances is worse than leaving a dead run's. Text
    that names no process owns nothing, so it counts as dead.
    """
    host, _, pid = text.rpartition(":")
    if not pid.isdigit():
        return False
    if host != socket.gethostname():
        return True
    return pid_alive(int(pid))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs.

    A killed harness stays a zombie until its parent reaps it; it owns nothing
    any more, so a zombie counts as dead.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Someone else's process: it exists, and it is not ours to judge.
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        # No /proc (not Linux), or it ended just now: rather keep what it
        # owns for the next clean than remove a live run's.
        return False
    # The state follows the command name, which may itself hold ") ".
    return stat.rpartition(")")[2].split()[0] == "Z"
