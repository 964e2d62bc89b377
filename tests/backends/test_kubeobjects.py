"""What the kubernetes backend sends for an instance, checked without a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from harness.backends.kubeobjects import (
    INSTANCE_LABEL,
    generated_deployment,
    template_deployment,
)
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.system import VersionSpec
from harness.manifests.templates import WorkloadTemplate

LABELS = {INSTANCE_LABEL: "orders-v2-1a2b3c4d", "rollout-harness.run-id": "run"}
SPEC = InstanceSpec(
    InstanceKey("orders", "v2"),
    VersionSpec("v2", image="shop/orders:v2", port=8000, health="/ready"),
)
ENV = {"INVENTORY_URL": "http://10.96.0.7:8000", "PORT": "8000"}


def pod_of(**containers: dict[str, Any]) -> dict[str, Any]:
    """A pod template whose containers are named by the keywords."""
    return {
        "metadata": {"labels": {"app": "orders"}, "annotations": {"team": "shop"}},
        "spec": {"containers": [{"name": n, **c} for n, c in containers.items()]},
    }


def built(pod: dict[str, Any], container: str = "orders") -> Any:
    template = WorkloadTemplate("Deployment/orders", container, pod, "orders.yaml")
    deployment = template_deployment(
        "orders-v2", SPEC, "shop/orders:v2", ENV, LABELS, template
    )
    return deployment.spec.template


def test_the_instance_overrides_image_env_and_port_of_its_container() -> None:
    pod = pod_of(
        orders={
            "image": "registry.example/orders:2024.1",
            "env": [
                {"name": "INVENTORY_URL", "value": "http://inventory:8000"},
                {"name": "LOG_LEVEL", "value": "debug"},
            ],
            "ports": [{"name": "http", "containerPort": 8080}],
        },
        proxy={"image": "registry.example/proxy:1"},
    )

    template = built(pod)
    orders, proxy = template.spec.containers

    assert orders.image == "shop/orders:v2"
    assert [(e.name, e.value) for e in orders.env] == [
        ("LOG_LEVEL", "debug"),
        ("INVENTORY_URL", "http://10.96.0.7:8000"),
        ("PORT", "8000"),
    ]
    # The written port's name now means the instance's port, for named probes.
    assert [(p.name, p.container_port) for p in orders.ports] == [("http", 8000)]
    assert proxy.image == "registry.example/proxy:1"
    assert proxy.image_pull_policy == "IfNotPresent"
    assert template.metadata.labels == {"app": "orders", **LABELS}
    assert template.metadata.annotations == {"team": "shop"}


def test_probes_and_resources_are_kept_and_a_missing_readiness_probe_added() -> None:
    liveness = {"httpGet": {"path": "/live", "port": "http"}, "periodSeconds": 7}
    pod = pod_of(
        orders={
            "image": "o",
            "livenessProbe": liveness,
            "resources": {"limits": {"cpu": 1, "memory": "256Mi"}},
        }
    )

    orders = built(pod).spec.containers[0]

    assert orders.liveness_probe.period_seconds == 7
    assert orders.readiness_probe.http_get.path == "/ready"
    assert orders.resources.limits == {"cpu": "1", "memory": "256Mi"}


def test_what_points_outside_the_namespace_is_left_out() -> None:
    pod = pod_of(
        orders={
            "image": "o",
            "envFrom": [{"configMapRef": {"name": "orders"}}],
            "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {
                    "name": "B",
                    "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}},
                },
                {
                    "name": "C",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                },
            ],
        }
    )
    pod["spec"].update(
        serviceAccountName="orders",
        nodeSelector={"pool": "big"},
        priorityClassName="critical",
        hostNetwork=True,
        volumes=[
            {"name": "tmp", "emptyDir": {}},
            {"name": "settings", "configMap": {"name": "orders"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "orders"}},
        ],
    )

    spec = built(pod).spec

    assert spec.containers[0].env_from is None
    assert [e.name for e in spec.containers[0].env] == ["C", "INVENTORY_URL", "PORT"]
    assert spec.service_account_name is None
    assert spec.node_selector is None
    assert spec.priority_class_name is None
    assert spec.host_network is None
    assert [(v.name, v.empty_dir is not None) for v in spec.volumes] == [
        ("tmp", True),
        ("settings", True),
        ("data", True),
    ]
    assert spec.automount_service_account_token is False


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        pytest.param([], [("http", 8000)], id="none-written"),
        pytest.param(
            [{"name": "web", "containerPort": 8000}], [("web", 8000)], id="same-number"
        ),
        pytest.param(
            [
                {"name": "web", "containerPort": 9000},
                {"name": "metrics", "containerPort": 9100},
            ],
            [("web", 8000), ("metrics", 9100)],
            id="other-number-and-a-second-port",
        ),
    ],
)
def test_the_instance_port_keeps_a_written_name(
    ports: list[dict[str, Any]], expected: list[tuple[str, int]]
) -> None:
    orders = built(pod_of(orders={"image": "o", "ports": ports})).spec.containers[0]

    assert [(p.name, p.container_port) for p in orders.ports] == expected


def test_a_generated_deployment_runs_the_version_as_configured() -> None:
    deployment = generated_deployment("orders-v2", SPEC, "shop/orders:v2", ENV, LABELS)
    container = deployment.spec.template.spec.containers[0]

    assert container.name == "app"
    assert container.readiness_probe.http_get.path == "/ready"
    assert {e.name: e.value for e in container.env} == ENV
    assert deployment.spec.selector.match_labels == {
        INSTANCE_LABEL: LABELS[INSTANCE_LABEL]
    }
