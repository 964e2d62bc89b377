"""Fixtures shared by the whole suite.

Every test is checked for processes a run left behind. Tests marked ``docker``
need a running engine: without one they skip, saying why; under ``CI=true``
they fail instead, because CI must run them.

Tests marked ``kubernetes`` use the kubeconfig named by ROLLOUT_KUBECONFIG, else
the least-privilege one that cluster/up.sh writes (a user bound only to
cluster/rbac.yaml), and the sample images imported into the cluster. Without a
reachable cluster they skip, saying why; when CI=true and
ROLLOUT_REQUIRE_KUBERNETES=1 they fail instead, because that CI must run them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import BackendUnavailable
from tests.helpers import CLUSTER_DIR, REPO, labelled_processes

# Pact's core (used through pact-python) reports usage over the network unless
# told not to; tests never send traffic off this machine.
os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root, which holds the sample system's rollout.yaml."""
    return REPO


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A folder laid out like the repository root, safe to add configs to.

    The sample services and contracts are linked, not copied, so that a test
    can write its own rollout.yaml beside them.
    """
    for name in ("sample_services", "contracts"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


@pytest.fixture(autouse=True)
def nothing_left_running() -> Iterator[None]:
    """After every test, no process started by a run is still alive."""
    before = labelled_processes()
    yield
    deadline = time.monotonic() + 10
    while (left := labelled_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left running: {sorted(left)}"


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Any]:
    """A Docker SDK client of a running engine, or a skip (a failure in CI)."""
    from harness.backends.docker import connect

    try:
        client = connect()
    except BackendUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Docker engine is reachable: {exc}")
        pytest.skip(f"no Docker engine is reachable: {exc}")
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _engine_for_docker_tests(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_engine")


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    """The kubeconfig of a reachable cluster, or a skip (a failure where required)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from harness.backends.kubeapi import connect

    path = Path(
        os.environ.get("ROLLOUT_KUBECONFIG", CLUSTER_DIR / "harness.kubeconfig")
    )
    try:
        api_client = connect(path)
        client.CoreV1Api(api_client).list_namespace(limit=1, _request_timeout=10)
        api_client.close()
    except (BackendUnavailable, ApiException, HTTPError, OSError) as exc:
        reason = f"no Kubernetes cluster reachable through {path}: {exc}"
        required = os.environ.get("ROLLOUT_REQUIRE_KUBERNETES") == "1"
        if os.environ.get("CI") == "true" and required:
            pytest.fail(f"CI=true and ROLLOUT_REQUIRE_KUBERNETES=1, but {reason}")
        pytest.skip(f"{reason} (cluster/up.sh starts one)")
    return path


@pytest.fixture(autouse=True)
def _cluster_for_kubernetes_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `rollout clean`, killed runs and backends made without options find the
    # cluster through KUBECONFIG, as a user's would.
    if request.node.get_closest_marker("kubernetes") is not None:
        path = request.getfixturevalue("kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(path))
