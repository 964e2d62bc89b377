"""Pod templates of the services' workloads, read from the working tree."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.core.config import load_system
from harness.manifests.templates import workload_templates
from tests.helpers import sample_config
from tests.manifests.conftest import workload


def test_the_sample_services_run_as_their_deployments(repo: Path) -> None:
    templates = workload_templates(load_system(repo / "rollout.yaml"))

    orders = templates["orders"]
    container = orders.pod["spec"]["containers"][0]
    assert sorted(templates) == ["inventory", "notifier", "orders", "storefront"]
    assert (orders.workload, orders.container) == ("Deployment/orders", "orders")
    assert orders.location == "deploy/orders.yaml, document 1"
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert orders.pod["metadata"]["labels"]["app.kubernetes.io/name"] == "orders"


def shop_in(folder: Path, manifests: dict[str, str], **mapping: Any) -> Path:
    """The sample config in ``folder``, its manifests replaced by ``manifests``."""

    def edit(document: dict[str, Any]) -> None:
        document["manifests"] = ["deploy"]
        for service, kubernetes in mapping.items():
            document["services"][service]["kubernetes"] = kubernetes

    for name, text in manifests.items():
        path = folder / "deploy" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return sample_config(folder, edit)


def test_the_working_tree_is_read_whatever_the_mapping_selects(
    sample_copy: Path,
) -> None:
    config = shop_in(
        sample_copy,
        {
            "base/orders.yaml": workload(
                "shop-orders", {"proxy": "envoy:1", "orders": "acme/orders:v7"}
            ),
            "base/kustomization.yaml": "resources: [orders.yaml]\n",
            "jobs.yaml": workload("nightly", {"report": "acme/reports:1"}, "CronJob"),
        },
        orders={"workload": "shop-orders", "container": "orders"},
        inventory={"workload": "CronJob/nightly"},
    )

    templates = workload_templates(load_system(config))

    assert templates["orders"].container == "orders"
    assert [c["name"] for c in templates["orders"].pod["spec"]["containers"]] == [
        "proxy",
        "orders",
    ]
    # A CronJob's pod template sits under its job template.
    assert templates["inventory"].pod["spec"]["restartPolicy"] == "Never"
    assert "storefront" not in templates


def test_a_manifest_that_does_not_read_is_skipped_loudly(
    sample_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = shop_in(
        sample_copy,
        {
            "orders.yaml": workload("orders", {"orders": "acme/orders:v7"}),
            # A strategic-merge patch of an overlay: no image, no selector.
            "patch.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: inventory}
                spec: {replicas: 3}
            """,
        },
    )

    with caplog.at_level(logging.WARNING):
        templates = workload_templates(load_system(config))

    assert sorted(templates) == ["orders"]
    assert "patch.yaml is not used for instances" in caplog.text


def test_a_system_without_manifests_has_no_templates(sample_copy: Path) -> None:
    config = sample_config(sample_copy, lambda document: document.pop("manifests"))

    assert workload_templates(load_system(config)) == {}
