"""The Deployment and Service of one instance, as the kubernetes backend sends them.

A Deployment is generated from the config (image, port, env, the health path as
readiness probe), or built from the pod template of the service's own workload
when the manifests hold it: its containers, probes, resources and volumes are
kept as far as they make sense in a scratch namespace, and the image, the env
(the instance's wiring) and the port are the instance's.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubernetes import client

from harness.core.instances import InstanceSpec

if TYPE_CHECKING:
    from harness.manifests.templates import WorkloadTemplate

__all__ = [
    "CONTAINER",
    "INSTANCE_LABEL",
    "generated_deployment",
    "service",
    "template_deployment",
]

logger = logging.getLogger(__name__)

# Selects the pods of one instance; its value is the instance's slug.
INSTANCE_LABEL = "rollout-harness.instance"
# The container of a generated Deployment.
CONTAINER = "app"

# Pod fields that mean the same in a scratch namespace. Service accounts,
# priority classes, node selection, host namespaces and pull secrets name things
# that a run's namespace or the test cluster may not have.
_POD_FIELDS = frozenset(
    {"containers", "initContainers", "volumes", "securityContext", "hostAliases", "os"}
)
# Volumes that need nothing outside the pod; any other becomes an empty folder
# of the same name, so that every mount stays valid.
_SELF_CONTAINED_VOLUMES = frozenset({"emptyDir", "downwardAPI"})
# Values that come from objects the run's namespace does not hold.
_OUTSIDE_REFERENCES = frozenset({"configMapKeyRef", "secretKeyRef"})


def generated_deployment(
    name: str,
    spec: InstanceSpec,
    image: str,
    env: Mapping[str, str],
    labels: Mapping[str, str],
) -> client.V1Deployment:
    """The Deployment of an instance whose service has no workload in the manifests."""
    port = spec.version.port
    container = client.V1Container(
        name=CONTAINER,
        image=image,
        image_pull_policy="IfNotPresent",
        ports=[client.V1ContainerPort(container_port=port, protocol="TCP")],
        env=[
            client.V1EnvVar(name=key, value=value) for key, value in sorted(env.items())
        ],
        readiness_probe=client.V1Probe.model_validate(_readiness(spec)),
    )
    pod = client.V1PodSpec(
        containers=[container],
        # Instances never call the API, and their wiring is explicit: they
        # need neither a token nor the *_SERVICE_HOST variables of every Service.
        automount_service_account_token=False,
        enable_service_links=False,
        termination_grace_period_seconds=5,
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=dict(labels)),
        spec=client.V1DeploymentSpec(
            replicas=1,
            revision_history_limit=0,
            selector=client.V1LabelSelector(match_labels=selector(labels)),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=dict(labels)), spec=pod
            ),
        ),
    )


def template_deployment(
    name: str,
    spec: InstanceSpec,
    image: str,
    env: Mapping[str, str],
    labels: Mapping[str, str],
    template: WorkloadTemplate,
) -> client.V1Deployment:
    """The Deployment of an instance, built from its service's own pod template."""
    written = copy.deepcopy(dict(template.pod))
    pod = {k: v for k, v in written["spec"].items() if k in _POD_FIELDS}
    pod["volumes"] = [_scratch_volume(v, template) for v in pod.get("volumes") or []]
    pod["initContainers"] = [_kept(c) for c in pod.get("initContainers") or []]
    pod["containers"] = [
        _instance_container(_kept(c), spec, image, env)
        if c.get("name") == template.container
        else _kept(c)
        for c in pod.get("containers") or []
    ]
    pod.update(
        automountServiceAccountToken=False,
        enableServiceLinks=False,
        terminationGracePeriodSeconds=5,
    )

    metadata = written.get("metadata") or {}
    pod_metadata = {
        "labels": {**(metadata.get("labels") or {}), **labels},
        "annotations": metadata.get("annotations") or {},
    }
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 0,
            "selector": {"matchLabels": selector(labels)},
            "template": {"metadata": pod_metadata, "spec": pod},
        },
    }
    return client.V1Deployment.model_validate(body)


def service(
    name: str, spec: InstanceSpec, labels: Mapping[str, str]
) -> client.V1Service:
    """The ClusterIP Service in front of an instance's pod."""
    port = spec.version.port
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name, labels=dict(labels)),
        spec=client.V1ServiceSpec(
            selector=selector(labels),
            ports=[client.V1ServicePort(name="http", port=port, target_port=port)],
        ),
    )


def selector(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels that select one instance's pods."""
    return {INSTANCE_LABEL: labels[INSTANCE_LABEL]}


def _readiness(spec: InstanceSpec) -> dict[str, Any]:
    """The version's health path as a readiness probe, polled every second."""
    return {
        "httpGet": {"path": spec.version.health, "port": spec.version.port},
        "periodSeconds": 1,
        "timeoutSeconds": 2,
        "failureThreshold": 1,
    }


def _kept(container: dict[str, Any]) -> dict[str, Any]:
    """A container of the template, without what points outside the namespace."""
    container.pop("envFrom", None)
    container.pop("volumeDevices", None)
    container["env"] = [
        variable
        for variable in container.get("env") or []
        if not _OUTSIDE_REFERENCES & set(variable.get("valueFrom") or {})
    ]
    # Images are never pulled when the node has them: the cluster may reach
    # no registry, and the gate checks the image the node was given.
    container["imagePullPolicy"] = "IfNotPresent"
    if "resources" in container:
        container["resources"] = _quantities_as_text(container["resources"])
    return container


def _instance_container(
    container: dict[str, Any],
    spec: InstanceSpec,
    image: str,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """The service's container, running the instance's image, env and port."""
    written = [v for v in container["env"] if v.get("name") not in env]
    container["image"] = image
    container["env"] = written + [
        {"name": key, "value": value} for key, value in sorted(env.items())
    ]
    container["ports"] = _ports(container.get("ports") or [], spec.version.port)
    container.setdefault("readinessProbe", _readiness(spec))
    return container


def _ports(written: list[dict[str, Any]], port: int) -> list[dict[str, Any]]:
    """The instance's port, under the name probes may use for it.

    The name is that of the written port with the same number, else of the first
    written port, so that a probe on a named port reaches the instance's port.
    """
    same = [p for p in written if p.get("containerPort") == port]
    named = same or written
    name = named[0].get("name", "http") if named else "http"
    others = [
        p for p in written if p.get("containerPort") != port and p.get("name") != name
    ]
    return [{"name": name, "containerPort": port, "protocol": "TCP"}, *others]


def _scratch_volume(
    volume: dict[str, Any], template: WorkloadTemplate
) -> dict[str, Any]:
    if _SELF_CONTAINED_VOLUMES & set(volume):
        return volume
    logger.info(
        "volume %s of %s is an empty folder in the run's namespace",
        volume.get("name"),
        template.workload,
    )
    return {"name": volume.get("name"), "emptyDir": {}}


def _quantities_as_text(resources: Mapping[str, Any]) -> dict[str, Any]:
    # The API takes `cpu: 1`; the client's model wants quantities as strings.
    return {
        key: {name: str(q) for name, q in value.items()}
        if isinstance(value, Mapping)
        else value
        for key, value in resources.items()
    }
