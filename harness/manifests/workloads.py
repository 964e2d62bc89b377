"""Workloads in manifest files, validated with the Kubernetes client's models.

Each workload document is validated whole by the client's generated model of its
kind, so an object the API server would refuse (a missing required field, a
wrong type, an unknown field) is reported with its field path, as the server
reports it. Only then are its containers and images read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from harness.core.errors import Problem
from harness.manifests.images import ImageRef, parse_image

if TYPE_CHECKING:
    import pydantic

__all__ = ["Container", "Location", "read_manifest"]

logger = logging.getLogger(__name__)

# The annotation kubectl reads to pick a pod's default container.
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


@dataclass(frozen=True, slots=True)
class _Kind:
    model: str
    template: tuple[str, ...]  # keys from the object to its pod template


_WORKLOADS = {
    ("apps/v1", "Deployment"): _Kind("V1Deployment", ("spec", "template")),
    ("apps/v1", "StatefulSet"): _Kind("V1StatefulSet", ("spec", "template")),
    ("apps/v1", "DaemonSet"): _Kind("V1DaemonSet", ("spec", "template")),
    ("apps/v1", "ReplicaSet"): _Kind("V1ReplicaSet", ("spec", "template")),
    ("batch/v1", "Job"): _Kind("V1Job", ("spec", "template")),
    ("batch/v1", "CronJob"): _Kind(
        "V1CronJob", ("spec", "jobTemplate", "spec", "template")
    ),
    ("v1", "Pod"): _Kind("V1Pod", ()),
}

# The client's models type resource quantities as strings, but the API server
# also takes JSON numbers for them (``cpu: 1``), so numbers there are not errors.
_QUANTITY_MAPS = frozenset({"limits", "requests", "overhead"})
_QUANTITY_FIELDS = frozenset({"sizeLimit"})


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is written: ``REV:path``, document (from 1), key path."""

    file: str
    document: int
    path: str = ""

    def problem(self, message: str, hint: str = "") -> Problem:
        where = f"document {self.document}" + (f": {self.path}" if self.path else "")
        return Problem(self.file, where, message, hint)

    def __str__(self) -> str:
        return f"{self.file}, document {self.document}"


@dataclass(frozen=True, slots=True)
class Container:
    """One container of one workload and the image it runs."""

    kind: str
    workload: str
    name: str
    image: ImageRef
    location: Location  # where the image is written
    namespace: str = ""
    init: bool = False
    default: bool = False

    @property
    def workload_id(self) -> str:
        """``Kind/name``, prefixed by the namespace when the manifest sets one."""
        name = f"{self.kind}/{self.workload}"
        return f"{self.namespace}/{name}" if self.namespace else name

    @property
    def identity(self) -> tuple[str, str]:
        """What stays the same when only the image changes."""
        return self.workload_id, self.name


class _Loader(yaml.SafeLoader):
    """YAML read as kubectl reads it: timestamps stay strings.

    kubectl converts YAML to JSON, which has no dates, so ``2024-01-01`` in a
    label is the string it looks like; PyYAML would make it a date.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_manifest(file: str, data: bytes) -> tuple[list[Container], list[Problem]]:
    """The containers of every workload in one manifest file, and its problems.

    Documents that are not workloads (Services, ConfigMaps, custom resources)
    are skipped.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [Problem(file, "", "not UTF-8 text", hint="save it as UTF-8")]

    containers: list[Container] = []
    problems: list[Problem] = []
    number = 0
    try:
        # A subclass of SafeLoader: it constructs plain data only.
        documents = yaml.load_all(text, Loader=_Loader)
        for number, document in enumerate(documents, 1):
            for kind, found, location in _objects(document, Location(file, number)):
                read, wrong = _read_workload(kind, found, location)
                containers += read
                problems += wrong
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(exc, Location(file, number + 1)))
    return containers, problems


def _yaml_problem(exc: yaml.YAMLError, location: Location) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    reason = getattr(exc, "problem", None) or str(exc)
    return Location(location.file, location.document, where).problem(
        f"not valid YAML: {reason}",
        hint="manifests must be plain YAML; render templates (helm template, "
        "kustomize build) into the folder the config names",
    )


def _objects(
    document: Any, location: Location
) -> Iterator[tuple[_Kind, Mapping[str, Any], Location]]:
    if not isinstance(document, Mapping):
        return
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if (api_version, kind) == ("v1", "List"):
        for index, item in enumerate(document.get("items") or ()):
            yield from _objects(item, _within(location, f"items[{index}]"))
        return
    workload = _WORKLOADS.get((str(api_version), str(kind)))
    if workload is None:
        logger.debug("%s: skipping %s %s", location, api_version, kind)
        return
    yield workload, document, location


def _read_workload(
    kind: _Kind, document: Mapping[str, Any], location: Location
) -> tuple[list[Container], list[Problem]]:
    found = _validated(kind, document, location)
    if isinstance(found, list):
        return [], found

    metadata = found.metadata
    name = metadata and (metadata.name or metadata.generate_name)
    if not name:
        return [], [_within(location, "metadata.name").problem("Required value")]

    template = _descend(found, kind.template)
    template_path = ".".join(kind.template)
    if template is None or template.spec is None:
        where = _within(location, f"{template_path}.spec".lstrip("."))
        return [], [where.problem("Required value")]

    workload = _Workload(
        kind=str(document["kind"]),
        name=name,
        namespace=metadata.namespace or "",
        template=template,
        template_path=template_path,
        location=location,
    )
    return workload.containers()


@dataclass(frozen=True, slots=True)
class _Workload:
    kind: str
    name: str
    namespace: str
    template: Any  # the validated pod template (a client model)
    template_path: str
    location: Location

    def containers(self) -> tuple[list[Container], list[Problem]]:
        containers, problems = [], []
        for item, where, init in self._entries():
            image = _image(item.image, where)
            if isinstance(image, Problem):
                problems.append(image)
                continue
            container = Container(
                kind=self.kind,
                workload=self.name,
                name=item.name,
                image=image,
                location=where,
                namespace=self.namespace,
                init=init,
                default=not init and item.name == self._default_container(),
            )
            containers.append(container)
        return containers, problems

    def _entries(self) -> Iterator[tuple[Any, Location, bool]]:
        """Each container and init container, where its image is, and which."""
        spec = self.template.spec
        for key, items, init in (
            ("containers", spec.containers or [], False),
            ("initContainers", spec.init_containers or [], True),
        ):
            for index, item in enumerate(items):
                path = f"{self.template_path}.spec.{key}[{index}].image".lstrip(".")
                yield item, _within(self.location, path), init

    def _default_container(self) -> str | None:
        """The container kubectl picks: the annotated one, else the first."""
        metadata = self.template.metadata
        annotations = (metadata.annotations if metadata else None) or {}
        containers = self.template.spec.containers or []
        first = containers[0].name if containers else None
        return annotations.get(DEFAULT_CONTAINER_ANNOTATION) or first


def _image(text: str | None, where: Location) -> ImageRef | Problem:
    if not text:
        return where.problem("Required value")
    try:
        return parse_image(text)
    except ValueError as exc:
        return where.problem(
            f"cannot parse image reference {text!r}: {exc}",
            hint="write it as [registry[:port]/]repository[:tag][@digest]",
        )


def _validated(kind: _Kind, document: Mapping[str, Any], location: Location) -> Any:
    """The document as a client model, or the list of its problems."""
    # Imported on first use: the client's models take a second to load.
    import pydantic
    from kubernetes.client import models

    model = getattr(models, kind.model)
    try:
        return model.model_validate(_quantities_as_text(document))
    except pydantic.ValidationError as exc:
        return _explain(exc, document, location)


def _explain(
    error: pydantic.ValidationError, document: Mapping[str, Any], location: Location
) -> list[Problem]:
    by_path: dict[str, list[Mapping[str, Any]]] = {}
    for detail in error.errors():
        path = _field_path(document, detail["loc"], detail["type"] == "missing")
        by_path.setdefault(path, []).append(dict(detail))

    problems = []
    for path, details in by_path.items():
        where = _within(location, path)
        problems.append(where.problem(_message(details), hint=_hint(details)))
    return problems


def _field_path(document: Any, loc: Sequence[int | str], missing: bool) -> str:
    """The API server's way of writing ``loc``: ``spec.containers[0].image``.

    Only the parts that exist in the document are kept: pydantic adds the
    member type of a union (``port.int``), which is no field.
    """
    text, node = "", document
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            text, node = f"{text}[{part}]", node[part]
        elif isinstance(node, Mapping) and (part in node or (missing and last)):
            text = f"{text}.{part}" if text else str(part)
            node = node.get(part)
        else:
            break
    return text


def _message(details: Sequence[Mapping[str, Any]]) -> str:
    kind = details[0]["type"]
    if kind == "missing":
        return "Required value"
    if kind == "extra_forbidden":
        return "unknown field"
    expected = " or ".join(
        str(d["msg"]).removeprefix("Input should be ") for d in details
    )
    return f"Invalid value: {details[0]['input']!r}: must be {expected}"


def _hint(details: Sequence[Mapping[str, Any]]) -> str:
    if details[0]["type"] == "extra_forbidden":
        return "check the spelling and indentation; the API server refuses it"
    if details[0]["type"] == "missing":
        return "add it; the API server requires it"
    return ""


def _quantities_as_text(node: Any) -> Any:
    if isinstance(node, list):
        return [_quantities_as_text(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    copy = {}
    for key, value in node.items():
        if key in _QUANTITY_MAPS and isinstance(value, Mapping):
            copy[key] = {name: _number_text(q) for name, q in value.items()}
        elif key in _QUANTITY_FIELDS:
            copy[key] = _number_text(value)
        else:
            copy[key] = _quantities_as_text(value)
    return copy


def _number_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _descend(node: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if node is None:
            return None
        node = getattr(node, _snake(key))
    return node


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _within(location: Location, path: str) -> Location:
    prefix = location.path
    joined = f"{prefix}.{path}" if prefix and path else prefix or path
    return Location(location.file, location.document, joined)
