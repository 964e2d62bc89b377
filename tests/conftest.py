"""Fixtures shared by the whole suite.

Every test is checked for processes a run left behind. Tests marked ``docker``
need a running engine: without one they skip, saying why; under ``CI=true``
they fail instead, because CI must run them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import BackendUnavailable
from tests.helpers import REPO, labelled_processes

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
