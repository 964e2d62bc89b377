"""What only the docker backend does: images, labels, network, ports, limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testcontainers.core.config import testcontainers_config

from harness.backends.base import OWNER_LABEL, RUN_LABEL, Instance
from harness.backends.docker import DockerBackend, clean_containers, owner
from harness.core.errors import BackendUnavailable, ConfigError, InstanceStartError
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.system import VersionSpec

SpecOf = Callable[..., InstanceSpec]

MiB = 1024 * 1024

# A harness run that creates its network, then waits to be killed.
KILLED_RUN = """
import sys, time
from harness.backends.docker import DockerBackend

backend = DockerBackend(sys.argv[1])
print("ready", flush=True)
time.sleep(300)
"""


@pytest.fixture
def docker_backend(run_id: str, repo: Path) -> Iterator[DockerBackend]:
    with DockerBackend(run_id, repo) as backend:
        yield backend


def container_of(client: Any, instance: Instance) -> Any:
    return client.containers.get(instance.handle.get_container_id())


def run_objects(client: Any, run_id: str) -> list[str]:
    """Names of the containers and networks labelled with ``run_id``."""
    labelled = {"label": f"{RUN_LABEL}={run_id}"}
    containers = client.containers.list(all=True, filters=labelled)
    networks = client.networks.list(filters=labelled)
    return [item.name for item in [*containers, *networks]]


@pytest.mark.docker
def test_missing_image_is_named_with_how_to_build_it(
    docker_backend: DockerBackend,
) -> None:
    version = VersionSpec("v9", image="rollout-sample/inventory:v9-absent")

    with pytest.raises(InstanceStartError) as caught:
        docker_backend.start(InstanceSpec(InstanceKey("inventory", "v9"), version), {})

    assert "'rollout-sample/inventory:v9-absent'" in caught.value.reason
    assert "services.inventory.versions.v9.image" in caught.value.reason
    assert "docker build -t rollout-sample/inventory:v9-absent" in caught.value.reason


@pytest.mark.docker
def test_version_without_image_says_to_add_one(docker_backend: DockerBackend) -> None:
    version = VersionSpec("v1", command=("{python}", "-m", "http.server"))
    expected = r"add 'image:' under services\.web\.versions\.v1"

    with pytest.raises(InstanceStartError, match=expected):
        docker_backend.start(InstanceSpec(InstanceKey("web", "v1"), version), {})


@pytest.mark.docker
def test_container_and_network_carry_the_run_labels(
    docker_backend: DockerBackend, docker_engine: Any, spec_of: SpecOf
) -> None:
    instance = docker_backend.start(spec_of("inventory", "v1"), {})
    container = container_of(docker_engine, instance)
    labelled = {"label": f"{RUN_LABEL}={docker_backend.run_id}"}
    [network] = docker_engine.networks.list(filters=labelled)

    expected = {RUN_LABEL: docker_backend.run_id, OWNER_LABEL: owner()}
    assert expected.items() <= container.labels.items()
    assert expected.items() <= network.attrs["Labels"].items()
    endpoint = container.attrs["NetworkSettings"]["Networks"][network.name]
    assert instance.key.slug in endpoint["Aliases"]
    assert instance.peer_url == f"http://{instance.key.slug}:8000"


@pytest.mark.docker
def test_ports_are_published_on_loopback_only(
    docker_backend: DockerBackend, docker_engine: Any, spec_of: SpecOf
) -> None:
    instance = docker_backend.start(spec_of("inventory", "v1"), {})
    container = container_of(docker_engine, instance)

    bindings = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"]
    assert bindings
    assert {binding["HostIp"] for binding in bindings} == {"127.0.0.1"}
    assert instance.url == f"http://127.0.0.1:{bindings[0]['HostPort']}"


@pytest.mark.docker
@pytest.mark.parametrize(
    ("options", "nano_cpus", "memory"),
    [
        pytest.param({}, 1_000_000_000, 512 * MiB, id="defaults"),
        pytest.param(
            {"cpus": 0.5, "memory": "256m"}, 500_000_000, 256 * MiB, id="options"
        ),
    ],
)
def test_limits_are_applied_to_each_container(
    options: dict[str, Any],
    nano_cpus: int,
    memory: int,
    run_id: str,
    repo: Path,
    docker_engine: Any,
    spec_of: SpecOf,
) -> None:
    with DockerBackend(run_id, repo, **options) as backend:
        instance = backend.start(spec_of("inventory", "v1"), {})
        host_config = container_of(docker_engine, instance).attrs["HostConfig"]

    assert host_config["NanoCpus"] == nano_cpus
    assert host_config["Memory"] == memory


@pytest.mark.docker
def test_close_removes_the_containers_and_the_network(
    run_id: str, repo: Path, docker_engine: Any, spec_of: SpecOf
) -> None:
    with DockerBackend(run_id, repo) as backend:
        backend.start(spec_of("inventory", "v1"), {})
        backend.start(spec_of("inventory", "v2"), {})
        assert len(run_objects(docker_engine, run_id)) == 3

    assert run_objects(docker_engine, run_id) == []


@pytest.mark.docker
def test_unhealthy_instance_names_its_image_and_carries_its_logs(
    docker_backend: DockerBackend, docker_engine: Any, shop: Any
) -> None:
    inventory = shop.services["inventory"].version("v1")
    version = VersionSpec(
        "v1", image=inventory.image, health="/never", startup_timeout=3
    )

    with pytest.raises(InstanceStartError) as caught:
        docker_backend.start(InstanceSpec(InstanceKey("inventory", "v1"), version), {})

    assert "not healthy after 3s" in caught.value.reason
    assert f"(image {inventory.image})" in caught.value.reason
    assert '"GET /never HTTP/1.1" 404' in caught.value.logs
    network = f"rollout-{docker_backend.run_id}"
    assert run_objects(docker_engine, docker_backend.run_id) == [network]


@pytest.mark.docker
def test_clean_removes_the_network_of_a_killed_run_only(
    docker_backend: DockerBackend, docker_engine: Any, repo: Path
) -> None:
    killed_run = f"{docker_backend.run_id}-killed"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, killed_run],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    removed = clean_containers(killed_run)

    assert removed == [f"network rollout-{killed_run} of run {killed_run}"]
    assert run_objects(docker_engine, killed_run) == []
    assert run_objects(docker_engine, docker_backend.run_id) != []


@pytest.mark.docker
@pytest.mark.parametrize(
    ("setting", "disabled"),
    [
        pytest.param(None, True, id="unset-means-off"),
        pytest.param("false", False, id="user-choice-kept"),
    ],
)
def test_reaper_is_off_unless_the_user_asks_for_it(
    setting: str | None,
    disabled: bool,
    run_id: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if setting is None:
        monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    else:
        monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", setting)
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", setting == "true")

    with DockerBackend(run_id, repo):
        assert testcontainers_config.ryuk_disabled is disabled


def test_unreachable_engine_says_how_to_fix_it(
    run_id: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")

    with pytest.raises(BackendUnavailable) as caught:
        DockerBackend(run_id, repo)

    message = str(caught.value)
    assert f"unix://{socket}" in message
    assert "dockerd" in message
    assert "DOCKER_HOST" in message
    with pytest.raises(BackendUnavailable):
        clean_containers()


def test_invalid_limits_are_bad_input(run_id: str, repo: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        DockerBackend(run_id, repo, cpus=0, memory="lots")

    assert [problem.path for problem in caught.value.problems] == ["cpus", "memory"]
    assert "512m" in str(caught.value)
