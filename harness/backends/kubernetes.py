"""The kubernetes backend: each run gets a namespace of its own in a real cluster.

Each instance is a Deployment of one replica with a Service in front of it (see
``kubeobjects``: generated from the config, or built from the service's own
workload in the manifests). The version's health path is the pod's readiness
probe, so the Deployment's ``Available`` condition says when the instance is
ready. A consumer is wired to one provider version through that provider's
Service cluster IP, which needs no cluster DNS; the harness itself reaches every
instance through a port-forward, relayed by a socket listening on 127.0.0.1.

The namespace carries the run's labels; deleting it removes everything the run
made, and `rollout clean` finds the namespaces of killed runs by those labels.
cluster/rbac.yaml holds the only rights this module needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import tenacity
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from harness.backends.base import OWNER_LABEL, RUN_LABEL, Instance
from harness.backends.kubeapi import API_TIMEOUT, Conflict, Gone, calling, connect
from harness.backends.kubeobjects import (
    CONTAINER,
    INSTANCE_LABEL,
    generated_deployment,
    service,
    template_deployment,
)
from harness.backends.ownership import owner, owner_alive
from harness.backends.portforward import Relay
from harness.core.errors import (
    BackendUnavailable,
    ConfigError,
    EnvironmentFailure,
    InstanceStartError,
    Problem,
)
from harness.core.instances import InstanceKey, InstanceSpec

if TYPE_CHECKING:
    from harness.manifests.templates import WorkloadTemplate

__all__ = ["KubernetesBackend", "clean_namespaces", "connect", "namespace_name"]

logger = logging.getLogger(__name__)

_LOOPBACK = "127.0.0.1"
# Scheduling, the pod sandbox and the container's creation come before the
# program starts; the version's startup_timeout does not count them.
_POD_ALLOWANCE = 30.0
# Reasons a container waits that retrying will not cure.
_FATAL_WAITS = frozenset(
    {
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "ErrImageNeverPull",
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "RunContainerError",
    }
)
_IMAGE_WAITS = frozenset(
    {"ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName"}
)
_IMAGE_HINT = (
    "the cluster's nodes must hold the image or pull it from a registry they "
    "reach; cluster/up.sh IMAGE... imports images of the local Docker engine"
)


class KubernetesBackend:
    """Starts each instance as a Deployment and a Service in the run's namespace.

    ``kubeconfig`` and ``context`` choose the cluster (default: ``KUBECONFIG`` or
    ``~/.kube/config`` and its current context). ``namespace`` names the run's
    namespace instead of deriving it from the run id; it must not exist yet,
    because the run deletes it at the end. ``templates`` holds the pod templates
    of services' own workloads (``harness.manifests.workload_templates``): the
    Deployments of those services' instances are built from them. The work
    directory is unused: images carry their own files.
    """

    name: ClassVar[str] = "kubernetes"

    def __init__(
        self,
        run_id: str,
        _workdir: Path | None = None,
        *,
        context: str | None = None,
        kubeconfig: str | Path | None = None,
        namespace: str | None = None,
        templates: Mapping[str, WorkloadTemplate] | None = None,
    ) -> None:
        if namespace is not None and not _DNS_LABEL.match(namespace):
            raise _bad_namespace(namespace, "is not a DNS label", "e.g. ci-rollout-42")
        self.run_id = run_id
        self.namespace = namespace or namespace_name(run_id)
        self._templates = dict(templates or {})
        self._instances: dict[str, Instance] = {}
        self._closed = False
        # portforward() briefly swaps the transport of the client it is given,
        # so port-forwards get a client of their own, one opening at a time.
        self._forward_lock = threading.Lock()

        self._client = connect(kubeconfig, context)
        self._forward_client = connect(kubeconfig, context)
        self._core = client.CoreV1Api(self._client)
        self._apps = client.AppsV1Api(self._client)
        self._forwards = client.CoreV1Api(self._forward_client)
        try:
            self._create_namespace(explicit=namespace is not None)
        except BaseException:
            self._release_clients()
            raise

    def _create_namespace(self, *, explicit: bool) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(
                name=self.namespace,
                labels=run_labels(self.run_id),
                # Label values cannot hold every run id or a host:pid owner.
                annotations={RUN_LABEL: self.run_id, OWNER_LABEL: owner()},
            )
        )
        try:
            with calling(self._client, f"create namespace {self.namespace}"):
                self._core.create_namespace(body, _request_timeout=API_TIMEOUT)
        except Conflict:
            hint = "leave --namespace out, or name one that does not exist yet"
            if not explicit:
                hint = "run again: run ids are random"
            message = (
                "exists already; the kubernetes backend creates a namespace of its "
                "own per run and deletes it afterwards"
            )
            raise _bad_namespace(self.namespace, message, hint) from None
        logger.info("created namespace %s for run %s", self.namespace, self.run_id)

    def start(self, spec: InstanceSpec, env: Mapping[str, str]) -> Instance:
        name = object_name(spec.key)
        template = self._templates.get(spec.key.service)
        deployment = self._deployment(name, spec, env, template)
        with calling(self._client, f"create the objects of {spec.name}"):
            self._apps.create_namespaced_deployment(
                self.namespace, deployment, _request_timeout=API_TIMEOUT
            )
            created = self._core.create_namespaced_service(
                self.namespace,
                service(name, spec, self._labels(spec.key)),
                _request_timeout=API_TIMEOUT,
            )

        container = template.container if template else CONTAINER
        instance = self._register(spec, name, container, _cluster_ip(created))
        source = template.workload if template else "rollout.yaml"
        logger.info("starting %s in %s, as %s", spec.name, self.namespace, source)
        try:
            instance.handle.pod = self._wait_available(spec, instance)
        except BaseException:
            self.stop(instance)
            raise
        logger.info("instance %s started, forwarded to %s", spec.name, instance.url)
        return instance

    def _deployment(
        self,
        name: str,
        spec: InstanceSpec,
        env: Mapping[str, str],
        template: WorkloadTemplate | None,
    ) -> client.V1Deployment:
        image = _image(spec)
        environment = {**spec.version.env, **env, "PORT": str(spec.version.port)}
        labels = self._labels(spec.key)
        if template is None:
            return generated_deployment(name, spec, image, environment, labels)
        return template_deployment(name, spec, image, environment, labels, template)

    def _labels(self, key: InstanceKey) -> dict[str, str]:
        return {**run_labels(self.run_id), INSTANCE_LABEL: key.slug}

    def _register(
        self, spec: InstanceSpec, name: str, container: str, cluster_ip: str
    ) -> Instance:
        deployed = _Deployed(name, spec.key.slug, spec.version.port, container)
        deployed.relay = Relay(lambda: self._open_forward(deployed), spec.name)
        instance = Instance(
            spec.key,
            url=f"http://{_LOOPBACK}:{deployed.relay.port}",
            peer_url=f"http://{cluster_ip}:{spec.version.port}",
            handle=deployed,
        )
        self._instances[spec.key.slug] = instance
        return instance

    def _wait_available(self, spec: InstanceSpec, instance: Instance) -> str:
        """Wait for the Deployment to be available; returns its ready pod's name."""
        deployed: _Deployed = instance.handle
        timeout = spec.version.startup_timeout + _POD_ALLOWANCE
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            retry=tenacity.retry_if_exception_type(_NotReady),
            reraise=True,
        )
        try:
            pod = str(retrying(self._ready_pod, deployed))
        except _NotReady as exc:
            reason = f"not available after {timeout:g}s ({exc})"
            raise InstanceStartError(spec.name, reason, self.logs(instance)) from None
        except (_Failed, Gone) as exc:
            raise InstanceStartError(spec.name, str(exc), self.logs(instance)) from None
        return pod

    def _ready_pod(self, deployed: _Deployed) -> str:
        """The instance's ready pod; raises ``_NotReady`` or ``_Failed`` otherwise."""
        with calling(self._client, f"read Deployment {deployed.name}"):
            deployment = self._apps.read_namespaced_deployment(
                deployed.name, self.namespace, _request_timeout=API_TIMEOUT
            )
        pods = self._pods(deployed)
        for pod in pods:
            failure = _failure(pod)
            if failure:
                raise _Failed(failure)
        ready = [str(pod.metadata.name) for pod in pods if _pod_ready(pod)]
        if not (_available(deployment) and ready):
            raise _NotReady(_progress(deployment, pods))
        logger.debug("deployment %s available", deployed.name)
        return ready[0]

    def _pods(self, deployed: _Deployed) -> list[Any]:
        with calling(self._client, f"list the pods of {deployed.name}"):
            listed = self._core.list_namespaced_pod(
                self.namespace,
                label_selector=f"{INSTANCE_LABEL}={deployed.slug}",
                _request_timeout=API_TIMEOUT,
            )
        pods: list[Any] = listed.items
        return [pod for pod in pods if not pod.metadata.deletion_timestamp]

    def _open_forward(self, deployed: _Deployed) -> Any:
        """A socket connected to the instance's port inside its pod."""
        if not deployed.pod:
            deployed.pod = self._ready_pod(deployed)
        try:
            with self._forward_lock:
                forward = portforward(
                    self._forwards.connect_get_namespaced_pod_portforward,
                    deployed.pod,
                    self.namespace,
                    ports=str(deployed.port),
                )
        except ApiException:
            # The pod may have been replaced; look it up again next time.
            deployed.pod = ""
            raise
        return forward.socket(deployed.port)

    def logs(self, instance: Instance, lines: int = 40) -> str:
        deployed: _Deployed = instance.handle
        try:
            pods = self._pods(deployed)
        except EnvironmentFailure:
            return ""
        if not pods:
            return ""
        # A container that crashed and waits to restart has no current log;
        # the previous one holds why it stopped.
        for previous in (False, True):
            text = self._pod_log(pods[0].metadata.name, deployed, lines, previous)
            if text:
                return text
        return ""

    def _pod_log(
        self, pod: str, deployed: _Deployed, lines: int, previous: bool
    ) -> str:
        try:
            text: str = self._core.read_namespaced_pod_log(
                pod,
                self.namespace,
                container=deployed.container,
                tail_lines=lines,
                previous=previous,
                _request_timeout=API_TIMEOUT,
            )
        except (ApiException, urllib3.exceptions.HTTPError):
            return ""
        return text.rstrip("\n")

    def stop(self, instance: Instance) -> None:
        deployed: _Deployed = instance.handle
        self._instances.pop(instance.key.slug, None)
        deployed.relay.close()
        for delete in (
            self._apps.delete_namespaced_deployment,
            self._core.delete_namespaced_service,
        ):
            with (
                contextlib.suppress(Gone, BackendUnavailable),
                calling(self._client, f"delete {deployed.name}"),
            ):
                delete(
                    deployed.name,
                    self.namespace,
                    propagation_policy="Background",
                    _request_timeout=API_TIMEOUT,
                )
        logger.info("instance %s stopped", instance.name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        for instance in list(self._instances.values()):
            instance.handle.relay.close()
        self._instances.clear()
        try:
            with calling(self._client, f"delete namespace {self.namespace}"):
                self._core.delete_namespace(
                    self.namespace,
                    propagation_policy="Background",
                    _request_timeout=API_TIMEOUT,
                )
            logger.info("deleted namespace %s", self.namespace)
        except Gone:
            pass
        except BackendUnavailable as exc:
            logger.warning("could not delete namespace %s: %s", self.namespace, exc)
        finally:
            self._release_clients()

    def _release_clients(self) -> None:
        # The client's API classes are typed; ApiClient.close and the config
        # loaders are not, hence the ignores.
        self._client.close()  # type: ignore[no-untyped-call]
        self._forward_client.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> KubernetesBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def namespace_name(run_id: str) -> str:
    """The namespace of a run: a DNS-1123 label, whatever the run id holds.

    The engine's run ids (``rollout-1f2e3d4c``) are used as they are; any other
    id is cleaned, prefixed and given a digest that keeps it unique.
    """
    if run_id.startswith("rollout-") and _DNS_LABEL.match(run_id):
        return run_id
    return f"rollout-{_dns_safe(run_id, 55)}"


def object_name(key: InstanceKey) -> str:
    """The name of an instance's Deployment and Service.

    The slug is a DNS-1123 label already; Service names must also start with a
    letter (DNS-1035), which a service named ``1st-party`` would not.
    """
    slug = key.slug
    return slug if slug[0].isalpha() else f"svc-{slug}"


def run_labels(run_id: str) -> dict[str, str]:
    """The labels that mark what a run made, as label values allow them."""
    return {
        RUN_LABEL: _label_value(run_id),
        OWNER_LABEL: _label_value(owner()),
        "app.kubernetes.io/managed-by": "rollout-harness",
    }


def clean_namespaces(
    run_id: str | None = None,
    *,
    kubeconfig: str | Path | None = None,
    context: str | None = None,
) -> list[str]:
    """Delete the namespaces of runs whose harness process is gone.

    With ``run_id``, only that run's. Only namespaces that carry the run label
    are considered, and never those of a live run, or of a run started on
    another host (this host cannot tell whether it lives). ``kubeconfig`` and
    ``context`` choose the cluster as for the backend. Returns a description of
    each namespace deleted.
    """
    api_client = connect(kubeconfig, context)
    core = client.CoreV1Api(api_client)
    selector = RUN_LABEL if run_id is None else f"{RUN_LABEL}={_label_value(run_id)}"
    try:
        with calling(api_client, "list run namespaces"):
            listed = core.list_namespace(
                label_selector=selector, _request_timeout=API_TIMEOUT
            )
        return [
            description
            for namespace in listed.items
            if _left_behind(namespace)
            for description in [_delete_namespace(core, api_client, namespace)]
            if description
        ]
    finally:
        api_client.close()  # type: ignore[no-untyped-call]


def _left_behind(namespace: Any) -> bool:
    if namespace.metadata.deletion_timestamp:
        return False
    annotations = namespace.metadata.annotations or {}
    return not owner_alive(annotations.get(OWNER_LABEL, ""))


def _delete_namespace(core: Any, api_client: Any, namespace: Any) -> str:
    name = namespace.metadata.name
    run = (namespace.metadata.annotations or {}).get(RUN_LABEL, "?")
    try:
        with calling(api_client, f"delete namespace {name}"):
            core.delete_namespace(
                name, propagation_policy="Background", _request_timeout=API_TIMEOUT
            )
    except Gone:
        return ""
    logger.info("deleted namespace %s of run %s", name, run)
    return f"namespace {name} of run {run}"


# --- what a run creates ---------------------------------------------------------------


def _image(spec: InstanceSpec) -> str:
    if not spec.version.image:
        where = f"services.{spec.key.service}.versions.{spec.key.version}"
        raise InstanceStartError(
            spec.name,
            f"no 'image' for the kubernetes backend; add 'image:' under {where}",
        )
    return spec.version.image


def _cluster_ip(created: client.V1Service) -> str:
    ip = created.spec.cluster_ip if created.spec else None
    if not ip or ip == "None":
        raise BackendUnavailable(
            f"the cluster gave Service {created.metadata and created.metadata.name} "
            "no cluster IP, so consumers cannot be wired to it"
        )
    return ip


# --- reading status -------------------------------------------------------------------


class _NotReady(Exception):
    """Not available yet; waiting may help."""


class _Failed(Exception):
    """The pod cannot become ready; waiting will not help."""


def _available(deployment: Any) -> bool:
    conditions = deployment.status.conditions or []
    return any(c.type == "Available" and c.status == "True" for c in conditions)


def _pod_ready(pod: Any) -> bool:
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _failure(pod: Any) -> str | None:
    """Why the pod's container cannot start, if retrying will not cure it."""
    for status in pod.status.container_statuses or []:
        terminated = status.state.terminated or (
            status.last_state.terminated if status.last_state else None
        )
        if terminated is not None:
            return f"the container exited with code {terminated.exit_code}"
        waiting = status.state.waiting
        if waiting is not None and waiting.reason in _FATAL_WAITS:
            reason = f"the container cannot start: {waiting.reason}: {waiting.message}"
            if waiting.reason in _IMAGE_WAITS:
                reason += f" (hint: {_IMAGE_HINT})"
            return reason
    return None


def _progress(deployment: Any, pods: list[Any]) -> str:
    """What the Deployment and its pods say they wait for, for a timeout."""
    notes = [
        f"{c.type}={c.status}: {c.message}"
        for c in deployment.status.conditions or []
        if c.status != "True" or c.type == "ReplicaFailure"
    ]
    for pod in pods:
        for c in pod.status.conditions or []:
            if c.status != "True" and c.message:
                notes.append(f"pod {c.type}: {c.message}")
    return "; ".join(notes) or "no pod yet"


def _bad_namespace(name: str, message: str, hint: str) -> ConfigError:
    problem = Problem("command line", "--namespace", f"{name!r} {message}", hint)
    return ConfigError([problem])


# --- names and owners -----------------------------------------------------------------


def _dns_safe(text: str, limit: int) -> str:
    """A DNS-1123 label part of at most ``limit`` characters, unique per text."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    readable = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    readable = readable[: limit - len(digest) - 1].strip("-")
    return f"{readable}-{digest}" if readable else digest


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _label_value(text: str) -> str:
    """``text`` if Kubernetes accepts it as a label value, else a unique stand-in."""
    if _LABEL_VALUE.match(text):
        return text
    return _dns_safe(text, 63)


# --- what the backend keeps ---------------------------------------------------------


@dataclass(slots=True)
class _Deployed:
    """What the backend keeps about a started instance."""

    name: str
    slug: str
    port: int
    container: str
    pod: str = ""
    relay: Relay = field(init=False)
