"""The conformance test every backend passes: start, address, logs, stop, clean.

Each test runs once per backend (ids ``[process]``, ``[docker]`` and
``[kubernetes]``) on the real sample services of the repository's rollout.yaml.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.backends import Backend, clean_backend, create_backend
from harness.core.errors import InstanceStartError
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.system import VersionSpec
from tests.helpers import CLUSTER_DIR, REPO

SpecOf = Callable[..., InstanceSpec]

# What a program that cannot start prints before it exits.
CRASH_MESSAGE = "cannot start: no database configured"
CRASH_PROGRAM = f"import sys; print({CRASH_MESSAGE!r}, flush=True); sys.exit(3)"

# A harness run that starts one instance and waits to be killed.
KILLED_RUN = """
import sys, time
from pathlib import Path
from harness.backends import create_backend
from harness.core.config import load_system
from harness.core.instances import InstanceKey, InstanceSpec

name, run_id, config = sys.argv[1:]
version = load_system(config).services["inventory"].version("v1")
backend = create_backend(name, run_id, Path(config).parent)
print(backend.start(InstanceSpec(InstanceKey("inventory", "v1"), version), {}).url)
sys.stdout.flush()
time.sleep(300)
"""


def answers(url: str) -> bool:
    """Whether ``url`` answers 2xx now."""
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_instance_answers_health_at_its_url(backend: Backend, spec_of: SpecOf) -> None:
    instance = backend.start(spec_of("inventory", "v1"), {})

    assert instance.url.startswith("http://127.0.0.1:")
    assert answers(instance.url + "/health")
    assert instance.key == InstanceKey("inventory", "v1")


def test_logs_of_an_instance_can_be_read(backend: Backend, spec_of: SpecOf) -> None:
    instance = backend.start(spec_of("inventory", "v1"), {})

    assert "Application startup complete" in backend.logs(instance)
    assert len(backend.logs(instance, lines=1).splitlines()) == 1


def test_consumer_reaches_provider_at_its_peer_url(
    backend: Backend, spec_of: SpecOf
) -> None:
    inventory = backend.start(spec_of("inventory", "v1"), {})
    spec = spec_of("orders", "v1", inventory=inventory.key)
    orders = backend.start(spec, {wire.env: inventory.peer_url for wire in spec.wires})

    # Placing an order makes orders ask inventory for the item's stock.
    order = {"sku": "WIDGET-1", "quantity": 1}
    response = requests.post(f"{orders.url}/orders", json=order, timeout=10)

    assert response.status_code == 201, response.text
    assert orders.key.name == f"orders@v1[{inventory.key.name}]"


def test_stopping_twice_is_harmless(backend: Backend, spec_of: SpecOf) -> None:
    instance = backend.start(spec_of("inventory", "v1"), {})

    backend.stop(instance)
    backend.stop(instance)

    assert not answers(instance.url + "/health")


def test_close_stops_every_instance(
    backend_name: str, run_id: str, spec_of: SpecOf, repo: Path
) -> None:
    with create_backend(backend_name, run_id, repo) as backend:
        first = backend.start(spec_of("inventory", "v1"), {})
        second = backend.start(spec_of("inventory", "v2"), {})
        assert answers(first.url + "/health")

    assert not answers(first.url + "/health")
    assert not answers(second.url + "/health")


def test_instance_that_exits_raises_with_its_last_log_lines(
    backend: Backend, crashing: VersionSpec
) -> None:
    spec = InstanceSpec(InstanceKey("billing", "v1"), crashing)

    with pytest.raises(InstanceStartError) as caught:
        backend.start(spec, {})

    assert caught.value.instance == "billing@v1"
    assert "exited with code 3" in caught.value.reason
    assert CRASH_MESSAGE in caught.value.logs
    assert CRASH_MESSAGE in str(caught.value)


def test_clean_removes_what_a_killed_run_left_and_nothing_else(
    backend_name: str,
    backend: Backend,
    spec_of: SpecOf,
    bystander: Callable[[], bool],
    left_running: LeftRunning,
    repo: Path,
) -> None:
    live = backend.start(spec_of("inventory", "v1"), {})
    killed_run = f"{backend.run_id}-killed"
    left_url = run_and_kill(backend_name, killed_run, repo)
    assert left_running(killed_run, left_url), "the killed run should have left it"

    removed = clean_backend(backend_name)

    assert any(f"of run {killed_run}" in line for line in removed), removed
    assert not left_running(killed_run, left_url)
    assert clean_backend(backend_name, killed_run) == []
    assert answers(live.url + "/health"), "an instance of a live run was touched"
    assert bystander(), "something without a run label was touched"


def run_and_kill(backend_name: str, run_id: str, repo: Path) -> str:
    """Start an instance from another harness process, SIGKILL that process.

    Returns the URL of the instance it left behind.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, backend_name, run_id, "rollout.yaml"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    os.kill(child.pid, signal.SIGKILL)
    _, errors = child.communicate()
    assert url, f"the run did not start its instance:\n{errors}"
    return url


LeftRunning = Callable[[str, str], bool]


@pytest.fixture
def left_running(backend_name: str) -> Iterator[LeftRunning]:
    """Tells whether the instance a killed run started still runs.

    Called with the run id and the URL the run printed. On process and docker
    the instance answers at that URL. A kubernetes URL is a relay inside the
    harness process, so it died with the run; what the run left is its
    namespace, with the instance's pod ready in it.
    """
    if backend_name != "kubernetes":
        yield lambda _run_id, url: answers(url + "/health")
        return
    yield from _ready_pod_of_run()


@pytest.fixture
def crashing(backend_name: str, request: pytest.FixtureRequest) -> VersionSpec:
    """A version whose program prints a reason and exits with code 3."""
    image = None
    if backend_name == "docker":
        image = request.getfixturevalue("crash_image")
    if backend_name == "kubernetes":
        image = request.getfixturevalue("cluster_crash_image")
    return VersionSpec("v1", command=("{python}", "-c", CRASH_PROGRAM), image=image)


@pytest.fixture(scope="session")
def crash_image(docker_engine: Any) -> Iterator[str]:
    """An image that runs the crashing program."""
    from sample_services.build_images import BASE_IMAGE

    tag = "rollout-harness-test/crash:latest"
    command = json.dumps(["python3", "-c", CRASH_PROGRAM])
    dockerfile = f"FROM {BASE_IMAGE}\nCMD {command}\n"
    docker_engine.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True
    )
    yield tag
    docker_engine.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def cluster_crash_image(crash_image: str, kubeconfig: Path) -> str:
    """The crashing image, imported into the local cluster by cluster/up.sh.

    Images cannot be pulled on these machines; `cluster/up.sh IMAGE` imports an
    image of the local Docker engine (and keeps a running cluster as it is).
    """
    if not kubeconfig.is_relative_to(CLUSTER_DIR) or os.geteuid() != 0:
        pytest.skip(
            f"the cluster of {kubeconfig} is not the one cluster/up.sh runs here as "
            f"root, so {crash_image} cannot be imported into it"
        )
    imported = subprocess.run(
        ["bash", "cluster/up.sh", crash_image],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    return crash_image


@pytest.fixture
def bystander(
    backend_name: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], bool]]:
    """Something the backend would run, but without any run label.

    Yields a function telling whether it still runs.
    """
    if backend_name == "kubernetes":
        yield from _bystander_namespace()
        return
    if backend_name == "docker":
        from sample_services.build_images import BASE_IMAGE

        client = request.getfixturevalue("docker_engine")
        container = client.containers.run(BASE_IMAGE, ["sleep", "120"], detach=True)

        def running() -> bool:
            container.reload()
            return bool(container.status == "running")

        yield running
        container.remove(force=True)
        return

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield lambda: process.poll() is None
    process.kill()
    process.wait()


def _bystander_namespace() -> Iterator[Callable[[], bool]]:
    """A namespace without any run label; yields whether it is still active."""
    from kubernetes import client

    from harness.backends.kubernetes import connect

    core = client.CoreV1Api(connect())
    name = f"bystander-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def active() -> bool:
        listed = core.list_namespace(field_selector=f"metadata.name={name}").items
        return [n.status.phase for n in listed] == ["Active"]

    yield active
    core.delete_namespace(name)
    core.api_client.close()


def _ready_pod_of_run() -> Iterator[LeftRunning]:
    from kubernetes import client

    from harness.backends.kubernetes import connect, namespace_name

    core = client.CoreV1Api(connect())

    def pod_ready(run_id: str, _url: str) -> bool:
        name = namespace_name(run_id)
        namespaces = core.list_namespace(field_selector=f"metadata.name={name}")
        if [n.status.phase for n in namespaces.items] != ["Active"]:
            return False
        pods = core.list_namespaced_pod(name).items
        return any(
            c.type == "Ready" and c.status == "True"
            for pod in pods
            for c in pod.status.conditions or []
        )

    yield pod_ready
    core.api_client.close()
