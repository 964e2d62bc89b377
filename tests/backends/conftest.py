"""Fixtures for backend tests: backends and instances of the sample system.

The Docker engine and cluster fixtures, shared with the integration tests, are
in tests/conftest.py; a kubernetes backend made without options finds the
cluster through KUBECONFIG, which they set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.backends import Backend, create_backend
from harness.core.config import load_system
from harness.core.instances import InstanceKey, InstanceSpec, Wire
from harness.core.system import System


@pytest.fixture(scope="session")
def shop(repo: Path) -> System:
    """The sample system of the repository."""
    return load_system(repo / "rollout.yaml")


@pytest.fixture(
    params=[
        pytest.param("process", id="process"),
        pytest.param("docker", id="docker", marks=pytest.mark.docker),
        pytest.param("kubernetes", id="kubernetes", marks=pytest.mark.kubernetes),
    ]
)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each backend that must pass the conformance tests."""
    name: str = request.param
    return name


@pytest.fixture
def run_id() -> str:
    """A run id that no other test uses."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def backend(backend_name: str, run_id: str, repo: Path) -> Iterator[Backend]:
    """A backend for one run, closed after the test."""
    with create_backend(backend_name, run_id, repo) as started:
        yield started


SpecOf = Callable[..., InstanceSpec]


@pytest.fixture
def spec_of(shop: System) -> SpecOf:
    """Make the spec of a sample service version, wired to the given providers.

    ``spec_of("orders", "v1", inventory=provider_key)``
    """

    def make(service: str, version: str, **providers: InstanceKey) -> InstanceSpec:
        edges = {edge.provider: edge for edge in shop.dependencies_of(service)}
        wires = tuple(
            Wire(edges[name].env, edges[name].protocol, key)
            for name, key in sorted(providers.items())
        )
        key = InstanceKey(service, version, tuple(sorted(providers.items())))
        return InstanceSpec(key, shop.services[service].version(version), wires)

    return make
