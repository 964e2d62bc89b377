"""The kubernetes backend on a real cluster, with no more rights than it needs.

Tests marked ``kubernetes`` use the kubeconfig named by ROLLOUT_KUBECONFIG, else
the least-privilege one that cluster/up.sh writes (a user bound only to
cluster/rbac.yaml), and the sample images imported into the cluster. Without a
reachable cluster they skip, saying why; when CI=true and
ROLLOUT_REQUIRE_KUBERNETES=1 they fail instead, because that CI must run them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from harness.backends import Backend, clean_backend, create_backend
from harness.backends.base import RUN_LABEL
from harness.backends.kubernetes import connect, namespace_name
from harness.core.errors import BackendUnavailable, ConfigError, InstanceStartError
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.system import VersionSpec

SpecOf = Callable[..., InstanceSpec]

DEFAULT_KUBECONFIG = Path("/var/lib/rollout-harness/cluster/harness.kubeconfig")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

# A harness run that starts one instance and waits to be killed.
KILLED_RUN = """
import sys, time
from pathlib import Path
from harness.backends import create_backend
from harness.core.config import load_system
from harness.core.instances import InstanceKey, InstanceSpec

run_id, config = sys.argv[1:]
version = load_system(config).services["inventory"].version("v1")
backend = create_backend("kubernetes", run_id, Path(config).parent)
print(backend.start(InstanceSpec(InstanceKey("inventory", "v1"), version), {}).url)
sys.stdout.flush()
time.sleep(300)
"""


def answers(url: str) -> bool:
    """Whether ``url`` answers 2xx now."""
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def namespace_phase(core: client.CoreV1Api, name: str) -> str:
    """``Active``, ``Terminating``, or ``gone``.

    Lists rather than reads: the harness may list namespaces, not get them.
    """
    listed = core.list_namespace(field_selector=f"metadata.name={name}").items
    if not listed:
        return "gone"
    return str(listed[0].status.phase) if listed[0].status else "unknown"


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    """The kubeconfig of a reachable cluster, or a skip (a failure where required)."""
    path = Path(os.environ.get("ROLLOUT_KUBECONFIG", DEFAULT_KUBECONFIG))
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
    # `rollout clean` and a killed run find the cluster through KUBECONFIG.
    if request.node.get_closest_marker("kubernetes") is not None:
        path = request.getfixturevalue("kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(path))


@pytest.fixture
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    """The core API, with the same rights as the backend."""
    api_client = connect(kubeconfig)
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture
def kube(kubeconfig: Path, run_id: str, repo: Path) -> Iterator[Backend]:
    """A kubernetes backend for one run, closed after the test."""
    with create_backend("kubernetes", run_id, repo, kubeconfig=kubeconfig) as backend:
        yield backend


@pytest.fixture
def bystander(core: client.CoreV1Api) -> Iterator[str]:
    """A namespace without any run label, which nothing may touch."""
    name = f"bystander-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


# --- the shared backend behaviours -------------------------------------------------


@pytest.mark.kubernetes
def test_instance_answers_health_at_its_url(kube: Backend, spec_of: SpecOf) -> None:
    instance = kube.start(spec_of("inventory", "v1"), {})

    assert instance.url.startswith("http://127.0.0.1:")
    assert answers(instance.url + "/health")
    assert instance.key == InstanceKey("inventory", "v1")


@pytest.mark.kubernetes
def test_logs_of_an_instance_come_from_the_api(kube: Backend, spec_of: SpecOf) -> None:
    instance = kube.start(spec_of("inventory", "v1"), {})

    assert "Application startup complete" in kube.logs(instance)
    assert len(kube.logs(instance, lines=1).splitlines()) == 1


@pytest.mark.kubernetes
def test_consumer_reaches_provider_inside_the_cluster(
    kube: Backend, spec_of: SpecOf
) -> None:
    inventory = kube.start(spec_of("inventory", "v1"), {})
    spec = spec_of("orders", "v1", inventory=inventory.key)
    orders = kube.start(spec, {wire.env: inventory.peer_url for wire in spec.wires})

    # Placing an order makes orders ask inventory for the item's stock, from
    # one pod to the other through the provider's Service.
    order = {"sku": "WIDGET-1", "quantity": 1}
    response = requests.post(f"{orders.url}/orders", json=order, timeout=10)

    assert response.status_code == 201, response.text
    assert not inventory.peer_url.startswith("http://127.")


@pytest.mark.kubernetes
def test_stopping_twice_is_harmless(kube: Backend, spec_of: SpecOf) -> None:
    instance = kube.start(spec_of("inventory", "v1"), {})

    kube.stop(instance)
    kube.stop(instance)

    assert not answers(instance.url + "/health")


@pytest.mark.kubernetes
def test_close_stops_every_instance_and_deletes_the_namespace(
    kubeconfig: Path, run_id: str, spec_of: SpecOf, repo: Path, core: client.CoreV1Api
) -> None:
    with create_backend("kubernetes", run_id, repo, kubeconfig=kubeconfig) as backend:
        first = backend.start(spec_of("inventory", "v1"), {})
        second = backend.start(spec_of("inventory", "v2"), {})
        assert answers(first.url + "/health")
        assert namespace_phase(core, namespace_name(run_id)) == "Active"

    assert not answers(first.url + "/health")
    assert not answers(second.url + "/health")
    assert namespace_phase(core, namespace_name(run_id)) in ("Terminating", "gone")


@pytest.mark.kubernetes
def test_instance_that_exits_raises_with_its_last_log_lines(kube: Backend) -> None:
    # The sample image, told to serve a module that does not exist.
    broken = VersionSpec(
        "v1",
        image="rollout-sample/inventory:v1",
        env={"UVICORN_APP": "sample_services.missing:app"},
    )

    with pytest.raises(InstanceStartError) as caught:
        kube.start(InstanceSpec(InstanceKey("billing", "v1"), broken), {})

    assert caught.value.instance == "billing@v1"
    assert re.search(r"exited with code [1-9]", caught.value.reason)
    assert 'Could not import module "sample_services.missing"' in caught.value.logs


@pytest.mark.kubernetes
def test_names_are_valid_whatever_services_and_versions_are_called(
    kubeconfig: Path, repo: Path, core: client.CoreV1Api
) -> None:
    run_id = f"Nightly Run #{uuid.uuid4().hex[:6]}"
    version = VersionSpec("2.0.0+build.7", image="rollout-sample/inventory:v1")
    key = InstanceKey("9_Web.API", "2.0.0+build.7")

    with create_backend("kubernetes", run_id, repo, kubeconfig=kubeconfig) as backend:
        instance = backend.start(InstanceSpec(key, version), {})
        assert answers(instance.url + "/health")
        selector = f"metadata.name={namespace_name(run_id)}"
        labels = core.list_namespace(field_selector=selector).items[0].metadata.labels

    assert DNS_LABEL.match(namespace_name(run_id))
    assert labels[RUN_LABEL] != run_id, "a label value cannot hold spaces or '#'"


@pytest.mark.kubernetes
def test_clean_deletes_namespaces_of_killed_runs_and_nothing_else(
    kube: Backend,
    spec_of: SpecOf,
    core: client.CoreV1Api,
    bystander: str,
    repo: Path,
) -> None:
    live = kube.start(spec_of("inventory", "v1"), {})
    killed_run = f"{kube.run_id}-killed"
    run_and_kill(killed_run, repo)
    assert namespace_phase(core, namespace_name(killed_run)) == "Active"

    removed = clean_backend("kubernetes")

    assert any(f"of run {killed_run}" in line for line in removed), removed
    assert namespace_phase(core, namespace_name(killed_run)) in ("Terminating", "gone")
    assert clean_backend("kubernetes", killed_run) == []
    assert answers(live.url + "/health"), "an instance of a live run was touched"
    assert namespace_phase(core, bystander) == "Active", "an unlabelled namespace"


def run_and_kill(run_id: str, repo: Path) -> None:
    """Start an instance from another harness process, then SIGKILL that process."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, run_id, "rollout.yaml"],
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


# --- least privilege and bad settings ----------------------------------------------


@pytest.mark.kubernetes
@pytest.mark.parametrize(
    ("method", "args"),
    [
        pytest.param("list_namespaced_secret", ("default",), id="secrets"),
        pytest.param("list_node", (), id="nodes"),
        pytest.param("list_namespaced_config_map", ("kube-system",), id="config-maps"),
    ],
)
def test_the_backend_has_no_more_rights_than_rbac_yaml(
    core: client.CoreV1Api, method: str, args: tuple[str, ...]
) -> None:
    # Every test here runs with these credentials; they must not be an admin's.
    with pytest.raises(ApiException) as caught:
        getattr(core, method)(*args)

    assert caught.value.status == 403


@pytest.mark.kubernetes
def test_a_namespace_that_exists_is_never_taken_over(
    kubeconfig: Path, run_id: str, repo: Path
) -> None:
    with pytest.raises(ConfigError, match="exists already"):
        create_backend(
            "kubernetes", run_id, repo, kubeconfig=kubeconfig, namespace="default"
        )


def test_a_namespace_name_that_kubernetes_refuses_is_bad_input(repo: Path) -> None:
    with pytest.raises(ConfigError, match="not a DNS label"):
        create_backend("kubernetes", "run", repo, namespace="Team_A.rollout")


def test_unreachable_cluster_is_an_environment_failure(
    tmp_path: Path, repo: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', "
        "insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )

    with pytest.raises(BackendUnavailable, match=r"cannot reach the cluster"):
        create_backend("kubernetes", "run", repo, kubeconfig=kubeconfig)


def test_missing_kubeconfig_says_how_to_get_one(tmp_path: Path, repo: Path) -> None:
    missing = tmp_path / "absent.kubeconfig"

    with pytest.raises(BackendUnavailable, match=r"cluster/up\.sh") as caught:
        create_backend("kubernetes", "run", repo, kubeconfig=missing)

    assert str(missing) in str(caught.value)


@pytest.mark.parametrize(
    "run_id",
    [
        pytest.param("rollout-1f2e3d4c", id="engine-run-id"),
        pytest.param("Nightly Run #7", id="spaces-and-symbols"),
        pytest.param("ci/main@4f1c.build_12", id="slashes-and-dots"),
        pytest.param("x" * 120, id="too-long"),
        pytest.param("---", id="nothing-usable"),
    ],
)
def test_namespace_name_is_a_dns_label(run_id: str) -> None:
    name = namespace_name(run_id)

    assert DNS_LABEL.match(name), name
    assert name.startswith("rollout-")
    assert namespace_name(run_id + "2") != name
