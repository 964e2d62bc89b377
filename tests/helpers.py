"""Helpers for tests that run the real harness: processes, the CLI, configs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness.backends.process import RUN_ENV

REPO = Path(__file__).resolve().parent.parent


def labelled_processes() -> set[int]:
    """Processes on this machine that carry a run label, other than this one."""
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if RUN_ENV.encode() + b"=" in (entry / "environ").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found - {os.getpid()}


def rollout(
    *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``rollout`` command as a user would, capturing what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
        check=False,
    )


def sample_config(
    folder: Path, edit: Callable[[dict[str, Any]], object] | None = None
) -> Path:
    """A copy of the sample rollout.yaml in ``folder``, optionally edited."""
    document = yaml.safe_load((REPO / "rollout.yaml").read_text())
    if edit is not None:
        edit(document)
    path = folder / "rollout.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
