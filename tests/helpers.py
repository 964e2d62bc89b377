"""Helpers for tests that run the real harness: processes, the CLI, configs."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.backends.process import RUN_ENV

REPO = Path(__file__).resolve().parent.parent
# Where cluster/up.sh keeps the local cluster's kubeconfigs and timings.
CLUSTER_DIR = Path(
    os.environ.get("ROLLOUT_CLUSTER_DIR", "/var/lib/rollout-harness/cluster")
)

# Every process this test session starts inherits this variable, so the leak
# check sees only this session's processes, not those of another run on the
# same machine.
SESSION_ENV = "ROLLOUT_HARNESS_TEST_SESSION"
os.environ.setdefault(SESSION_ENV, uuid.uuid4().hex)


def labelled_processes() -> set[int]:
    """Processes of this test session that carry a run label, other than this one."""
    session = f"{SESSION_ENV}={os.environ[SESSION_ENV]}\0".encode()
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if RUN_ENV.encode() + b"=" in environ and session in environ:
            found.add(int(entry.name))
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


# The sample changes of the gate issue, for tests that compare backends.
SCENARIOS = [
    pytest.param({"inventory": "v2"}, None, id="inventory-additive"),
    pytest.param({"inventory": "v3"}, {"inventory": "v2"}, id="inventory-rename"),
    pytest.param({"orders": "v2"}, None, id="orders-alone"),
    pytest.param({"inventory": "v2", "orders": "v2"}, None, id="inventory-and-orders"),
    pytest.param({"notifier": "v2", "storefront": "v2"}, None, id="messages-both"),
    pytest.param({"notifier": "v2"}, None, id="notifier-alone"),
    pytest.param(
        {"inventory": "v2", "orders": "v2", "notifier": "v2", "storefront": "v2"},
        None,
        id="all-four",
    ),
]


def answer(report: Any) -> tuple[Any, ...]:
    """What must not depend on the backend: verdict, stages and cell outcomes."""
    outcomes = sorted((r.cell.id, r.outcome.value) for r in report.results)
    return report.verdict.decision, report.verdict.stages, outcomes


def answer_on_processes(
    candidates: dict[str, str], baselines: dict[str, str] | None
) -> tuple[Any, ...]:
    """The process backend's answer to a scenario, computed once per session."""
    return _process_answer(json.dumps([candidates, baselines], sort_keys=True))


@functools.cache
def _process_answer(scenario: str) -> tuple[Any, ...]:
    from harness.core.config import load_system
    from harness.engine.gate import run_gate
    from harness.planning import plan_change

    candidates, baselines = json.loads(scenario)
    system = load_system(REPO / "rollout.yaml")
    return answer(run_gate(system, plan_change(system, candidates, baselines)))
