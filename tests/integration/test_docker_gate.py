"""The gate on the docker backend: the same answers as on processes, and no
container or network left behind, whatever happens to the run."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import OWNER_LABEL, RUN_LABEL
from harness.core.config import load_system
from harness.core.model import Outcome
from harness.engine.gate import run_gate
from harness.planning import plan_change
from tests.helpers import (
    SCENARIOS,
    answer,
    answer_on_processes,
    rollout,
    sample_config,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.parametrize(("candidates", "baselines"), SCENARIOS)
def test_docker_gives_the_same_verdicts_as_processes(
    repo: Path, candidates: dict[str, str], baselines: dict[str, str] | None
) -> None:
    system = load_system(repo / "rollout.yaml")
    plan = plan_change(system, candidates, baselines)

    on_docker = run_gate(system, plan, backend="docker")

    assert answer(on_docker) == answer_on_processes(candidates, baselines)
    assert all(r.outcome is not Outcome.ERROR for r in on_docker.results)


def hanging(document: dict[str, Any]) -> None:
    """Add inventory v9: a real image whose health path never answers."""
    versions = document["services"]["inventory"]["versions"]
    versions["v9"] = {**versions["v1"], "health": "/never", "startup_timeout": 120}


def objects_of(docker_engine: Any, owner_pid: int) -> list[str]:
    """Containers and networks a harness process with this pid started."""
    owner = {"label": f"{OWNER_LABEL}={socket.gethostname()}:{owner_pid}"}
    containers = docker_engine.containers.list(all=True, filters=owner)
    networks = docker_engine.networks.list(filters=owner)
    return [c.name for c in containers] + [n.name for n in networks]


def start_docker_run(sample_copy: Path, docker_engine: Any) -> subprocess.Popen[str]:
    sample_config(sample_copy, hanging)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "check",
            "--backend",
            "docker",
            "--candidate",
            "inventory=v9",
        ],
        cwd=sample_copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    # Both instances' containers plus the network exist once the run is mid-way.
    while len(objects_of(docker_engine, process.pid)) < 3:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the run never started its containers"
        time.sleep(0.3)
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_mid_docker_run_leaves_nothing_behind(
    sample_copy: Path, docker_engine: Any, signum: int
) -> None:
    process = start_docker_run(sample_copy, docker_engine)

    process.send_signal(signum)
    output, _ = process.communicate(timeout=120)

    assert process.returncode != 0, output
    assert "Traceback" not in output
    assert objects_of(docker_engine, process.pid) == []


def test_sigkill_then_clean_removes_that_run_and_nothing_else(
    sample_copy: Path, docker_engine: Any
) -> None:
    # A container of a live run (this test process owns it) and one of the user.
    live = docker_engine.containers.run(
        "rollout-sample/inventory:v1",
        detach=True,
        labels={RUN_LABEL: "rollout-live", OWNER_LABEL: f"{socket.gethostname()}:1"},
    )
    users = docker_engine.containers.run("rollout-sample/inventory:v1", detach=True)
    try:
        process = start_docker_run(sample_copy, docker_engine)
        process.kill()
        process.wait()
        assert objects_of(docker_engine, process.pid), "SIGKILL should leave them"

        result = rollout("clean", "--backend", "docker", cwd=sample_copy)

        assert result.returncode == 0, result.stderr
        assert objects_of(docker_engine, process.pid) == []
        live.reload()
        users.reload()
        assert live.status == "running"
        assert users.status == "running"
    finally:
        live.remove(force=True)
        users.remove(force=True)
