"""The kubernetes backend on a real cluster, with no more rights than it needs.

What every backend does (start, address, logs, stop, clean) is tested for this
one too by tests/backends/test_conformance.py; here is what is particular to a
cluster: names, namespaces, Deployments built from the manifests, rights.
Tests marked ``kubernetes`` get the cluster from the ``kubeconfig`` fixture of
tests/conftest.py (a user bound only to cluster/rbac.yaml).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.backends import Backend, create_backend
from harness.backends.base import RUN_LABEL
from harness.backends.kubernetes import connect, namespace_name, object_name
from harness.core.errors import BackendUnavailable, ConfigError, InstanceStartError
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.system import System, VersionSpec
from harness.manifests.templates import WorkloadTemplate, workload_templates

SpecOf = Callable[..., InstanceSpec]

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


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


@pytest.fixture
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    """The core API, with the same rights as the backend."""
    api_client = connect(kubeconfig)
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture
def apps(kubeconfig: Path) -> Iterator[client.AppsV1Api]:
    """The apps API, with the same rights as the backend."""
    api_client = connect(kubeconfig)
    yield client.AppsV1Api(api_client)
    api_client.close()


@pytest.fixture
def kube(kubeconfig: Path, run_id: str, repo: Path) -> Iterator[Backend]:
    """A kubernetes backend for one run, closed after the test."""
    with create_backend("kubernetes", run_id, repo, kubeconfig=kubeconfig) as backend:
        yield backend


@pytest.fixture
def templated(
    kubeconfig: Path, run_id: str, repo: Path, shop: System
) -> Iterator[Backend]:
    """A kubernetes backend given the pod templates of the sample's manifests."""
    templates = workload_templates(shop)
    with create_backend(
        "kubernetes", run_id, repo, kubeconfig=kubeconfig, templates=templates
    ) as backend:
        yield backend


def deployed(apps: client.AppsV1Api, backend: Backend, key: InstanceKey) -> Any:
    """The Deployment the backend made for an instance, as the cluster holds it."""
    namespace = namespace_name(backend.run_id)
    return apps.read_namespaced_deployment(object_name(key), namespace)


# --- particular to a cluster ---------------------------------------------------------


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


# --- Deployments from the repository's manifests --------------------------------------

# A workload as a production manifest may write it: much of it names what a run's
# namespace, or a test cluster, does not have.
PRODUCTION_POD: dict[str, Any] = {
    "metadata": {"labels": {"app": "inventory"}},
    "spec": {
        "serviceAccountName": "inventory",
        "priorityClassName": "business-critical",
        "nodeSelector": {"disk": "ssd"},
        "imagePullSecrets": [{"name": "registry"}],
        "containers": [
            {
                "name": "inventory",
                "image": "registry.example/inventory:2024.1",
                "imagePullPolicy": "Always",
                "envFrom": [{"secretRef": {"name": "inventory-secrets"}}],
                "env": [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}},
                    },
                    {
                        "name": "POD_NAME",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                    },
                ],
                "ports": [{"name": "web", "containerPort": 9000}],
                "resources": {"requests": {"cpu": "10m", "memory": 33554432}},
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/inventory"},
                    {"name": "cache", "mountPath": "/cache"},
                ],
                "readinessProbe": {
                    "httpGet": {"path": "/health", "port": "web"},
                    "periodSeconds": 1,
                },
            }
        ],
        "volumes": [
            {"name": "config", "configMap": {"name": "inventory-config"}},
            {"name": "cache", "emptyDir": {}},
        ],
    },
}


@pytest.mark.kubernetes
def test_a_mapped_service_runs_its_own_workloads_pod_template(
    templated: Backend, apps: client.AppsV1Api, spec_of: SpecOf
) -> None:
    inventory = templated.start(spec_of("inventory", "v1"), {})
    spec = spec_of("orders", "v1", inventory=inventory.key)
    orders = templated.start(
        spec, {wire.env: inventory.peer_url for wire in spec.wires}
    )

    order = {"sku": "WIDGET-1", "quantity": 1}
    response = requests.post(f"{orders.url}/orders", json=order, timeout=10)
    pod = deployed(apps, templated, orders.key).spec.template
    container = pod.spec.containers[0]
    env = {variable.name: variable.value for variable in container.env}

    assert response.status_code == 201, response.text
    # deploy/orders.yaml's container, probe and labels; the instance's wiring.
    assert container.name == "orders"
    assert container.readiness_probe.period_seconds == 2
    assert pod.metadata.labels["app.kubernetes.io/part-of"] == "shop"
    assert env["INVENTORY_URL"] == inventory.peer_url != "http://inventory:8000"
    assert "Application startup complete" in templated.logs(orders)


@pytest.mark.kubernetes
def test_a_service_without_a_workload_gets_a_generated_deployment(
    templated: Backend, apps: client.AppsV1Api
) -> None:
    version = VersionSpec("v1", image="rollout-sample/inventory:v1")
    instance = templated.start(InstanceSpec(InstanceKey("billing", "v1"), version), {})

    container = deployed(apps, templated, instance.key).spec.template.spec.containers[0]

    assert answers(instance.url + "/health")
    assert container.name == "app"
    assert container.readiness_probe.http_get.path == "/health"


@pytest.mark.kubernetes
def test_a_production_pod_template_runs_in_a_scratch_namespace(
    kubeconfig: Path, run_id: str, repo: Path, apps: client.AppsV1Api
) -> None:
    template = WorkloadTemplate(
        "Deployment/inventory", "inventory", PRODUCTION_POD, "prod.yaml, document 1"
    )
    version = VersionSpec("v1", image="rollout-sample/inventory:v1")
    key = InstanceKey("inventory", "v1")

    with create_backend(
        "kubernetes",
        run_id,
        repo,
        kubeconfig=kubeconfig,
        templates={"inventory": template},
    ) as backend:
        instance = backend.start(InstanceSpec(key, version), {})
        pod = deployed(apps, backend, key).spec.template.spec

        assert answers(instance.url + "/health")
    # The secret, config map, service account, priority class and node
    # selection exist nowhere here; the probe on port "web" now reaches 8000.
    assert pod.containers[0].ports[0].container_port == 8000
    assert pod.service_account_name is None
    assert [v.name for v in pod.volumes if v.empty_dir] == ["config", "cache"]


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
