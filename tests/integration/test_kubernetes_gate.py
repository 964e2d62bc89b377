"""The gate on the kubernetes backend: the same answers as on processes, and no
namespace left behind, whatever happens to the run.

Instances of mapped services are built from the repository's own manifests
(deploy/), as `rollout check --backend kubernetes` builds them.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from harness.backends import create_backend
from harness.backends.base import OWNER_LABEL, RUN_LABEL
from harness.backends.kubeapi import connect
from harness.backends.kubernetes import namespace_name
from harness.core.config import load_system
from harness.core.model import Outcome
from harness.engine.gate import run_gate
from harness.manifests.templates import workload_templates
from harness.planning import plan_change
from tests.helpers import (
    REPO,
    SCENARIOS,
    answer,
    answer_on_processes,
    rollout,
    sample_config,
)

pytestmark = [pytest.mark.kubernetes, pytest.mark.slow]


@pytest.mark.parametrize(("candidates", "baselines"), SCENARIOS)
def test_kubernetes_gives_the_same_verdicts_as_processes(
    repo: Path,
    kubeconfig: Path,
    candidates: dict[str, str],
    baselines: dict[str, str] | None,
) -> None:
    system = load_system(repo / "rollout.yaml")
    plan = plan_change(system, candidates, baselines)
    options = {"kubeconfig": kubeconfig, "templates": workload_templates(system)}

    on_kubernetes = run_gate(system, plan, "kubernetes", backend_options=options)

    assert answer(on_kubernetes) == answer_on_processes(candidates, baselines)
    assert all(r.outcome is not Outcome.ERROR for r in on_kubernetes.results)


# --- whatever happens to the run -----------------------------------------------------


@pytest.fixture
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    """The core API, with the harness's rights."""
    api_client = connect(kubeconfig)
    yield client.CoreV1Api(api_client)
    api_client.close()


def hanging(document: dict[str, Any]) -> None:
    """Add inventory v9: a real image whose health path never answers."""
    versions = document["services"]["inventory"]["versions"]
    versions["v9"] = {**versions["v1"], "health": "/never", "startup_timeout": 120}


def phase(core: client.CoreV1Api, namespace: str) -> str:
    """``Active``, ``Terminating`` or ``gone``."""
    listed = core.list_namespace(field_selector=f"metadata.name={namespace}").items
    return str(listed[0].status.phase) if listed else "gone"


def namespaces_of(core: client.CoreV1Api, owner_pid: int) -> list[str]:
    """The run namespaces a harness process with this pid created."""
    owner = f"{socket.gethostname()}:{owner_pid}"
    return [
        n.metadata.name
        for n in core.list_namespace(label_selector=RUN_LABEL).items
        if (n.metadata.annotations or {}).get(OWNER_LABEL) == owner
    ]


def start_kubernetes_run(
    sample_copy: Path, kubeconfig: Path, core: client.CoreV1Api
) -> tuple[subprocess.Popen[str], str]:
    """A `rollout check` mid-way: both instances' pods exist, v9 never gets ready."""
    sample_config(sample_copy, hanging)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "check",
            "--backend=kubernetes",
            f"--kubeconfig={kubeconfig}",
            "--candidate=inventory=v9",
        ],
        cwd=sample_copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (names := namespaces_of(core, process.pid)) or (
        len(core.list_namespaced_pod(names[0]).items) < 2
    ):
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the run never started its pods"
        time.sleep(0.3)
    return process, names[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_mid_kubernetes_run_deletes_its_namespace(
    sample_copy: Path, kubeconfig: Path, core: client.CoreV1Api, signum: int
) -> None:
    process, namespace = start_kubernetes_run(sample_copy, kubeconfig, core)

    process.send_signal(signum)
    output, _ = process.communicate(timeout=120)

    assert process.returncode != 0, output
    assert "Traceback" not in output
    assert phase(core, namespace) in ("Terminating", "gone")


def test_sigkill_then_clean_removes_that_run_and_nothing_else(
    sample_copy: Path, kubeconfig: Path, core: client.CoreV1Api, repo: Path
) -> None:
    bystander = f"bystander-{uuid.uuid4().hex[:8]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=bystander))
    )
    run = f"test-live-{uuid.uuid4().hex[:8]}"
    try:
        # A live run: this test process owns its namespace, and lives.
        with create_backend("kubernetes", run, repo, kubeconfig=kubeconfig):
            process, killed = start_kubernetes_run(sample_copy, kubeconfig, core)
            process.kill()
            process.wait()
            assert phase(core, killed) == "Active", "SIGKILL should leave it"

            # KUBECONFIG names nothing: the cluster must come from --kubeconfig.
            result = rollout(
                "clean",
                "--backend=kubernetes",
                f"--kubeconfig={kubeconfig}",
                cwd=sample_copy,
                env={"KUBECONFIG": str(sample_copy / "absent.kubeconfig")},
            )

            assert result.returncode == 0, result.stderr
            assert f"removed namespace {killed} of run" in result.stdout
            assert phase(core, killed) in ("Terminating", "gone")
            untouched = [namespace_name(run), bystander, "default", "kube-system"]
            assert [phase(core, name) for name in untouched] == ["Active"] * 4
    finally:
        core.delete_namespace(bystander)


def test_pytest_runs_the_gate_on_the_cluster_it_is_given(
    sample_copy: Path, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # KUBECONFIG pointing nowhere proves the option, not the environment, chose.
    monkeypatch.setenv("KUBECONFIG", str(sample_copy / "no-such-kubeconfig"))
    (sample_copy / "deploy").symlink_to(REPO / "deploy")
    sample_config(sample_copy)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--rollout",
            "--rollout-backend",
            "kubernetes",
            f"--rollout-kubeconfig={kubeconfig}",
            "--rollout-candidate",
            "inventory=v2",
            "-k",
            "pact",
            "-v",
            "-p",
            "no:cacheprovider",
        ],
        cwd=sample_copy,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders@v1->inventory@v2[pact] PASSED" in result.stdout
    assert "verdict: allowed" in result.stdout
