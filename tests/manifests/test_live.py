"""The live baseline: the versions a cluster's workloads run now.

The mapping is tested on workloads as the API lists them; the reading on a real
cluster, with a user bound to nothing but cluster/rbac.yaml's read-only role
(baseline.kubeconfig of cluster/up.sh), and the shop deployed, as an admin, in
a namespace of its own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.config import load_system
from harness.core.errors import ManifestError
from harness.core.system import System
from harness.manifests.live import live_baseline
from tests.helpers import CLUSTER_DIR, REPO, rollout
from tests.manifests.conftest import GitRepo

SERVICES = ("inventory", "notifier", "orders", "storefront")


def deployment(service: str, image: str, namespace: str = "shop") -> dict[str, Any]:
    """The sample's Deployment of ``service``, as the API lists it."""
    document: dict[str, Any] = next(
        d
        for d in yaml.safe_load_all((REPO / "deploy" / f"{service}.yaml").read_text())
        if d["kind"] == "Deployment"
    )
    document["metadata"]["namespace"] = namespace
    document["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return document


@pytest.fixture(scope="module")
def shop() -> System:
    return load_system(REPO / "rollout.yaml")


def running(**versions: str) -> list[dict[str, Any]]:
    return [
        deployment(service, f"rollout-sample/{service}:{version}")
        for service, version in versions.items()
    ]


def test_each_service_is_the_version_its_workload_runs(shop: System) -> None:
    workloads = running(inventory="v2", orders="v1", notifier="v1", storefront="v2")

    baseline = live_baseline(shop, workloads, "prod", "shop", SERVICES)

    assert baseline.baselines == {
        "inventory": "v2",
        "notifier": "v1",
        "orders": "v1",
        "storefront": "v2",
    }
    assert baseline.notes()[0] == (
        "baseline inventory@v2: shop/Deployment/inventory, container inventory, "
        "rollout-sample/inventory:v2 in cluster prod"
    )


def test_a_missing_workload_is_reported_not_guessed(shop: System) -> None:
    workloads = running(inventory="v1", notifier="v1")

    with pytest.raises(ManifestError) as caught:
        live_baseline(shop, workloads, "prod", "shop", SERVICES)

    problems = {p.message: p for p in caught.value.problems}
    assert sorted(problems) == [
        "service 'orders' does not run here: there is no workload 'orders' with a "
        "container 'orders'",
        "service 'storefront' does not run here: there is no workload "
        "'storefront' with a container 'storefront'",
    ]
    orders = next(iter(problems.values()))
    assert (orders.file, orders.path) == ("cluster prod", "namespace shop")
    assert "--namespace" in orders.hint
    assert "--baseline orders=VERSION" in orders.hint


def test_only_the_needed_services_must_run(shop: System) -> None:
    baseline = live_baseline(
        shop, running(inventory="v1"), "prod", "shop", ["inventory"]
    )

    assert baseline.baselines == {"inventory": "v1"}


def test_an_image_that_is_no_known_version_is_bad_input(shop: System) -> None:
    workloads = running(inventory="v9", orders="v1", notifier="v1", storefront="v1")

    with pytest.raises(ManifestError, match="is none of its versions") as caught:
        live_baseline(shop, workloads, "prod", "shop", SERVICES)

    assert caught.value.problems[0].file == "cluster prod: Deployment/inventory"


# --- on a real cluster -----------------------------------------------------------


@pytest.fixture(scope="module")
def admin_kubeconfig() -> Path:
    """An admin's kubeconfig, to deploy the shop that the reader reads."""
    path = Path(
        os.environ.get("ROLLOUT_ADMIN_KUBECONFIG", CLUSTER_DIR / "admin.kubeconfig")
    )
    if not path.exists():
        pytest.skip(f"no admin kubeconfig at {path} to deploy the shop with")
    return path


@pytest.fixture(scope="module")
def reader_kubeconfig() -> Path:
    """A user bound only to cluster/rbac.yaml's rollout-harness-baseline role."""
    name = "ROLLOUT_BASELINE_KUBECONFIG"
    path = Path(os.environ.get(name, CLUSTER_DIR / "baseline.kubeconfig"))
    if not path.exists():
        pytest.skip(f"no read-only kubeconfig at {path} (cluster/up.sh writes one)")
    return path


@pytest.fixture
def deployed_shop(kubeconfig: Path, admin_kubeconfig: Path) -> Iterator[str]:
    """A namespace running the shop, inventory at v2; yields its name.

    No replica runs: a workload's spec says which version it runs.
    """
    from kubernetes import client

    from harness.backends.kubeapi import connect

    api_client = connect(admin_kubeconfig)
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    namespace = f"live-{uuid.uuid4().hex[:8]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))
    )
    versions = {"inventory": "v2", "orders": "v1", "notifier": "v1", "storefront": "v1"}
    for body in running(**versions):
        body["metadata"]["namespace"] = namespace
        body["spec"]["replicas"] = 0
        apps.create_namespaced_deployment(
            namespace, client.V1Deployment.model_validate(body)
        )
    yield namespace
    core.delete_namespace(namespace)
    api_client.close()


@pytest.mark.kubernetes
def test_the_read_only_role_is_all_the_live_baseline_needs(
    deployed_shop: str, reader_kubeconfig: Path, shop: System
) -> None:
    from harness.backends.kubeapi import connect, read_workloads

    api_client = connect(reader_kubeconfig)
    try:
        workloads = read_workloads(api_client, deployed_shop)
    finally:
        api_client.close()

    baseline = live_baseline(shop, workloads, "test", deployed_shop, SERVICES)

    assert baseline.baselines["inventory"] == "v2"
    assert baseline.baselines["orders"] == "v1"


@pytest.mark.kubernetes
@pytest.mark.parametrize(
    ("api", "method", "args"),
    [
        pytest.param("CoreV1Api", "list_namespaced_pod", (), id="list-pods"),
        pytest.param("CoreV1Api", "list_namespaced_secret", (), id="list-secrets"),
        pytest.param("AppsV1Api", "read_namespaced_deployment", ("orders",), id="get"),
        pytest.param(
            "AppsV1Api", "delete_namespaced_deployment", ("orders",), id="delete"
        ),
        pytest.param(
            "AppsV1Api", "patch_namespaced_deployment_scale", ("orders", {}), id="scale"
        ),
    ],
)
def test_the_read_only_role_reads_nothing_else_and_changes_nothing(
    deployed_shop: str,
    reader_kubeconfig: Path,
    api: str,
    method: str,
    args: tuple[Any, ...],
) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from harness.backends.kubeapi import connect

    api_client = connect(reader_kubeconfig)
    call = getattr(getattr(client, api)(api_client), method)
    # The namespace follows the object's name, if any.
    arguments = (*args[:1], deployed_shop, *args[1:])
    try:
        with pytest.raises(ApiException) as caught:
            call(*arguments)
    finally:
        api_client.close()

    assert caught.value.status == 403


@pytest.mark.kubernetes
def test_plan_reads_the_baselines_from_the_cluster(
    deployed_shop: str, reader_kubeconfig: Path
) -> None:
    result = rollout(
        "plan",
        "--baseline-from-cluster",
        f"--namespace={deployed_shop}",
        f"--kubeconfig={reader_kubeconfig}",
        "--candidate=orders=v2",
        cwd=REPO,
    )

    assert result.returncode == 0, result.stderr
    assert "baseline inventory@v2: " in result.stdout
    assert "orders@v1 -> inventory@v2" in result.stdout
    assert "orders@v2 -> inventory@v2" in result.stdout


@pytest.mark.kubernetes
def test_a_typed_baseline_wins_over_the_cluster(
    deployed_shop: str, reader_kubeconfig: Path
) -> None:
    result = rollout(
        "plan",
        "--baseline-from-cluster",
        f"--namespace={deployed_shop}",
        f"--kubeconfig={reader_kubeconfig}",
        "--baseline=inventory=v1",
        "--candidate=orders=v2",
        cwd=REPO,
    )

    assert result.returncode == 0, result.stderr
    assert "baseline inventory@" not in result.stdout
    assert "orders@v2 -> inventory@v1" in result.stdout


@pytest.mark.kubernetes
def test_a_namespace_that_runs_no_shop_stops_with_the_fix(
    deployed_shop: str, reader_kubeconfig: Path
) -> None:
    # rollout-harness-system exists, and runs none of the shop's workloads.
    result = rollout(
        "plan",
        "--baseline-from-cluster",
        "--namespace=rollout-harness-system",
        f"--kubeconfig={reader_kubeconfig}",
        "--candidate=orders=v2",
        cwd=REPO,
    )

    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert (
        "namespace rollout-harness-system: service 'orders' does not run here"
        in message
    )
    assert "--baseline orders=VERSION" in message


def test_namespace_without_the_live_baseline_is_bad_input() -> None:
    result = rollout("plan", "--namespace=shop", "--candidate=orders=v2", cwd=REPO)

    assert result.returncode == 2
    assert "--baseline-from-cluster" in result.stderr


@pytest.mark.kubernetes
def test_check_on_the_cluster_against_its_live_baseline(
    deployed_shop: str, kubeconfig: Path
) -> None:
    # The harness's own user holds both roles of cluster/rbac.yaml: it reads
    # the baseline (inventory v2) and runs the instances.
    result = rollout(
        "check",
        "--backend=kubernetes",
        f"--kubeconfig={kubeconfig}",
        "--baseline-from-cluster",
        f"--namespace={deployed_shop}",
        "--candidate=orders=v2",
        cwd=REPO,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders@v2 -> inventory@v2: compatible" in result.stdout
    assert "verdict: allowed" in result.stdout


@pytest.mark.kubernetes
def test_against_the_cluster_a_change_is_what_it_will_really_do(
    deployed_shop: str, reader_kubeconfig: Path, sample_copy: Path
) -> None:
    # The change bumps inventory and orders to v2; the cluster runs inventory
    # v2 already, so only orders moves.
    shutil.copy(REPO / "rollout.yaml", sample_copy / "rollout.yaml")
    shutil.copytree(REPO / "deploy", sample_copy / "deploy")
    repo = GitRepo(sample_copy)
    repo.commit("the shop at v1", "rollout.yaml", "deploy")
    for service in ("inventory", "orders"):
        manifest = sample_copy / "deploy" / f"{service}.yaml"
        manifest.write_text(manifest.read_text().replace(":v1", ":v2"))
    repo.commit("inventory and orders v2", "deploy")

    result = rollout(
        "plan",
        "--base=HEAD~1",
        "--baseline-from-cluster",
        f"--namespace={deployed_shop}",
        f"--kubeconfig={reader_kubeconfig}",
        cwd=sample_copy,
    )

    assert result.returncode == 0, result.stderr
    assert "bumps: orders v1 -> v2" in result.stdout
    assert "inventory v1 -> v2" not in result.stdout
