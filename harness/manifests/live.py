"""The versions a cluster runs now, read from its workloads: the live baseline.

The workloads (as ``harness.backends.kubeapi.read_workloads`` lists them) are
read like manifests and mapped to services and versions like them, through each
service's ``kubernetes:`` mapping and its versions' images. A service whose
workload the cluster does not run is reported, never guessed.

What counts is each workload's spec, the images the cluster converges to: in
the middle of a rollout, that is the version being rolled out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.core.errors import ManifestError, Problem
from harness.core.system import System, WorkloadMapping
from harness.manifests.mapping import Catalog, versions_by_service
from harness.manifests.workloads import Container, read_manifest

__all__ = ["LiveBaseline", "live_baseline"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveBaseline:
    """The version of each service that runs in one namespace of a cluster.

    ``workloads`` names, per service, the workload container that shows it.
    """

    cluster: str
    namespace: str
    baselines: Mapping[str, str]
    workloads: Mapping[str, str]

    def notes(self) -> tuple[str, ...]:
        """One line per service: its version and where it was read."""
        return tuple(
            f"baseline {service}@{version}: {self.workloads[service]} "
            f"in cluster {self.cluster}"
            for service, version in sorted(self.baselines.items())
        )


def live_baseline(
    system: System,
    workloads: Iterable[Mapping[str, Any]],
    cluster: str,
    namespace: str,
    needed: Collection[str],
) -> LiveBaseline:
    """The version of each service in ``needed`` that ``workloads`` run.

    ``cluster`` and ``namespace`` say where the workloads were read, for
    messages. Raises :class:`ManifestError` naming each needed service whose
    workload is missing, and each image that is no known version.
    """
    containers, problems = _containers(workloads, f"cluster {cluster}")
    catalog = Catalog(system)
    grouped, _ = catalog.group(containers)
    found = versions_by_service(catalog, grouped)
    problems += catalog.problems
    problems += [
        _missing(system, service, cluster, namespace)
        for service in sorted(needed)
        if service not in found
    ]
    if problems:
        raise ManifestError(list(dict.fromkeys(problems)))

    baseline = LiveBaseline(
        cluster=cluster,
        namespace=namespace,
        baselines={s: found[s][0] for s in needed},
        workloads={s: _shown(found[s][1]) for s in needed},
    )
    logger.info("live baseline from %s/%s: %s", cluster, namespace, baseline.baselines)
    return baseline


def _containers(
    workloads: Iterable[Mapping[str, Any]], source: str
) -> tuple[list[Container], list[Problem]]:
    containers: list[Container] = []
    problems: list[Problem] = []
    for workload in workloads:
        metadata = workload.get("metadata") or {}
        label = f"{source}: {workload.get('kind')}/{metadata.get('name')}"
        read, wrong = read_manifest(label, json.dumps(workload).encode())
        containers += read
        problems += wrong
    return containers, problems


def _missing(system: System, service: str, cluster: str, namespace: str) -> Problem:
    mapping = system.services[service].kubernetes
    return Problem(
        f"cluster {cluster}",
        f"namespace {namespace}",
        f"service {service!r} does not run here: there is no "
        f"{_described(service, mapping)}",
        hint=f"read the namespace it runs in (--namespace), fix "
        f"services.{service}.kubernetes in {system.source}, or give its version "
        f"(--baseline {service}=VERSION)",
    )


def _described(service: str, mapping: WorkloadMapping) -> str:
    """The workload container a mapping selects, in words."""
    named = mapping.workload or (None if mapping.image else service)
    text = f"workload {named!r}" if named else "workload"
    if mapping.container:
        text += f" with a container {mapping.container!r}"
    if mapping.image:
        text += f" running image {mapping.image}"
    return text


def _shown(container: Container) -> str:
    return f"{container.workload_id}, container {container.name}, {container.image}"
