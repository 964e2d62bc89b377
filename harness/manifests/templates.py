"""The pod templates of the services' own workloads, from the working tree.

The kubernetes backend builds an instance's Deployment from the workload its
service runs as in production (containers, probes, resources, volumes) when the
config lists ``manifests:`` and the service's ``kubernetes:`` mapping finds the
workload there; other services get a Deployment generated from the config.

The working tree is read, not a git revision: the instances of a check run what
the change proposes. Only plain manifests are read (kustomize bases included,
file by file); overlays' patches do not apply, and the backend overrides the
image anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.core.system import System
from harness.manifests.mapping import Catalog
from harness.manifests.workloads import Container, read_manifest

__all__ = ["WorkloadTemplate", "workload_templates"]

logger = logging.getLogger(__name__)

_SUFFIXES = (".yaml", ".yml", ".json")
# From a workload to its pod template; a Pod is its own template.
_TEMPLATE_KEYS = {
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Pod": (),
}
_DEFAULT_TEMPLATE_KEYS = ("spec", "template")


@dataclass(frozen=True, slots=True)
class WorkloadTemplate:
    """The pod template of the workload a service runs as, as written.

    ``pod`` holds the template's ``metadata`` and ``spec`` in the manifest's own
    (camelCase) keys; ``container`` names the service's container in it.
    """

    workload: str
    container: str
    pod: Mapping[str, Any]
    location: str


def workload_templates(system: System) -> dict[str, WorkloadTemplate]:
    """The workload template of each service the working tree's manifests hold.

    Services whose workload is not found are left out. A manifest that does not
    read (invalid YAML, a workload the API server would refuse) is skipped with
    a warning: ``rollout check --base`` reports its problems in full.
    """
    catalog = Catalog(system)
    found: dict[str, WorkloadTemplate] = {}
    for path in _manifest_files(system):
        for container, document in _workload_containers(system, path):
            service = catalog.service_of(container)
            if service is None or service in found or container.init:
                continue
            pod = _pod_template(document)
            if pod is not None:
                location = str(container.location)
                found[service] = WorkloadTemplate(
                    container.workload_id, container.name, pod, location
                )
                logger.info(
                    "%s runs as %s (%s)", service, container.workload_id, location
                )
    return found


def _manifest_files(system: System) -> Iterator[Path]:
    for entry in system.manifests:
        path = system.root / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES
            )


def _workload_containers(
    system: System, path: Path
) -> Iterator[tuple[Container, Mapping[str, Any]]]:
    """Each workload container of one file, with the document that holds it."""
    label = path.relative_to(system.root).as_posix()
    data = path.read_bytes()
    containers, problems = read_manifest(label, data)
    if problems:
        logger.warning(
            "%s is not used for instances: %s", label, "; ".join(map(str, problems))
        )
        return
    documents = _documents(data)
    for container in containers:
        # A workload inside a List has no template of its own to take.
        if not container.location.path.startswith("items["):
            yield container, documents[container.location.document - 1]


def _documents(data: bytes) -> Sequence[Any]:
    # Through JSON, as kubectl reads YAML: a date stays the string it looks like.
    loaded = list(yaml.safe_load_all(data))
    plain: Sequence[Any] = json.loads(json.dumps(loaded, default=str))
    return plain


def _pod_template(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    node: Any = document
    for key in _TEMPLATE_KEYS.get(str(document.get("kind")), _DEFAULT_TEMPLATE_KEYS):
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping) or not isinstance(node.get("spec"), Mapping):
        return None
    return {"metadata": node.get("metadata") or {}, "spec": node["spec"]}
