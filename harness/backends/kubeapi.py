"""Talking to a Kubernetes API server: clients, errors, and read-only look-ups.

Shared by the kubernetes backend and by the live baseline, which reads, and only
reads, the workloads a cluster runs now.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from harness.core.errors import BackendUnavailable, EnvironmentFailure

__all__ = [
    "API_TIMEOUT",
    "WORKLOAD_KINDS",
    "Conflict",
    "Gone",
    "active_context",
    "calling",
    "connect",
    "read_workloads",
]

logger = logging.getLogger(__name__)

API_TIMEOUT = 30.0
DEFAULT_KUBECONFIG = "~/.kube/config"
# Where a pod finds the namespace of its service account.
_POD_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

# The kinds that run services for good, read for a live baseline. Jobs and bare
# pods finish; ReplicaSets belong to Deployments and would repeat them.
WORKLOAD_KINDS = {
    "Deployment": "list_namespaced_deployment",
    "StatefulSet": "list_namespaced_stateful_set",
    "DaemonSet": "list_namespaced_daemon_set",
}


class Gone(EnvironmentFailure):
    """The object does not exist (404): deleted under the run, or never made."""


class Conflict(EnvironmentFailure):
    """The object exists already (409)."""


def connect(
    kubeconfig: str | Path | None = None, context: str | None = None
) -> client.ApiClient:
    """An API client for the cluster a kubeconfig names.

    Without ``kubeconfig``: ``KUBECONFIG`` or ``~/.kube/config``, else the
    service account of the pod the harness runs in. Raises
    :class:`BackendUnavailable` saying how to point the harness at a cluster.
    """
    path = _kubeconfig_path(kubeconfig)
    try:
        api_client: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=path, context=context, persist_config=False
        )
    except (ConfigException, OSError) as exc:
        if kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ:
            return _in_cluster_client()
        raise BackendUnavailable(
            f"cannot use the kubeconfig {path} ({exc}); pass --kubeconfig and "
            "--context, or set KUBECONFIG (cluster/up.sh starts a local cluster "
            "and prints its kubeconfig)"
        ) from None
    return api_client


def active_context(
    kubeconfig: str | Path | None = None, context: str | None = None
) -> tuple[str, str]:
    """The name of the context a client would use, and its namespace.

    The namespace is the context's, as kubectl picks it: else the pod's own
    when the harness runs in a pod without a kubeconfig, else ``default``.
    """
    try:
        contexts, active = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=_kubeconfig_path(kubeconfig)
        )
    except (ConfigException, OSError):
        with contextlib.suppress(OSError):
            return "in-cluster", _POD_NAMESPACE.read_text().strip() or "default"
        return context or "default", "default"
    chosen = next((c for c in contexts if c["name"] == context), active) or {}
    namespace = chosen.get("context", {}).get("namespace") or "default"
    return str(chosen.get("name") or context), str(namespace)


def read_workloads(
    api_client: client.ApiClient, namespace: str
) -> list[dict[str, Any]]:
    """Every Deployment, StatefulSet and DaemonSet of ``namespace``, as written.

    Read-only (``list`` on each kind). Each object carries its ``apiVersion``
    and ``kind`` as a manifest does; status and managed fields are left out.
    """
    apps = client.AppsV1Api(api_client)
    workloads = []
    for kind, method in WORKLOAD_KINDS.items():
        with calling(api_client, f"list the {kind}s of namespace {namespace}"):
            response = getattr(apps, method)(
                namespace, _preload_content=False, _request_timeout=API_TIMEOUT
            )
            listed = json.loads(response.data)
        for item in listed.get("items") or ():
            item.pop("status", None)
            item.get("metadata", {}).pop("managedFields", None)
            workloads.append({"apiVersion": "apps/v1", "kind": kind, **item})
    logger.info("read %d workloads in namespace %s", len(workloads), namespace)
    return workloads


@contextlib.contextmanager
def calling(api_client: Any, action: str) -> Iterator[None]:
    """Turn API failures into the harness's errors, naming the action."""
    try:
        yield
    except ApiException as exc:
        if exc.status == 404:
            raise Gone(f"the cluster found nothing to {action} (404)") from None
        if exc.status == 409:
            raise Conflict(
                f"the cluster refused to {action}: it exists (409)"
            ) from None
        raise _refused(api_client, action, exc) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        host = api_client.configuration.host
        raise BackendUnavailable(
            f"cannot reach the cluster at {host} to {action} ({exc.__class__.__name__}"
            "); is it running? (cluster/up.sh starts a local one)"
        ) from None


def _refused(api_client: Any, action: str, exc: ApiException) -> BackendUnavailable:
    host = api_client.configuration.host
    message = f"the cluster at {host} refused to {action}: {exc.status} {exc.reason}"
    if exc.status in (401, 403):
        message += (
            "; the harness needs the rights of cluster/rbac.yaml "
            "(kubectl apply -f cluster/rbac.yaml, then bind your user)"
        )
    return BackendUnavailable(message)


def _kubeconfig_path(kubeconfig: str | Path | None) -> str:
    # Read KUBECONFIG now: the client's own default is fixed when it is imported.
    return str(kubeconfig or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG)


def _in_cluster_client() -> client.ApiClient:
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except ConfigException as exc:
        raise BackendUnavailable(
            f"cannot use the pod's service account: {exc}"
        ) from None
    return client.ApiClient(configuration)
