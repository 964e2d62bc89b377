"""The workload containers under the config's manifest paths, at one revision.

A path is a manifest file, a folder of them, or a kustomization (a folder with
``kustomization.yaml``). A kustomization is read the way ``kustomize build``
sees it, as far as images go: its ``resources`` (files and other
kustomizations), then its ``images`` overrides, name prefix and suffix, and
namespace. Inside a plain folder, a sub-folder holding a kustomization is read
as that kustomization, not file by file.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from harness.core.errors import Problem
from harness.manifests.git import Revision, join
from harness.manifests.images import ImageRef
from harness.manifests.workloads import Container, Location, read_manifest

__all__ = ["Manifests", "read_containers"]

logger = logging.getLogger(__name__)

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_RESOURCE_KEYS = ("resources", "bases", "components")
_REMOTE_MARKERS = ("://", "github.com/", "git@", "?ref=")


@dataclass(frozen=True, slots=True)
class Manifests:
    """What one revision holds under the manifest paths."""

    containers: tuple[Container, ...]
    problems: tuple[Problem, ...]
    missing: tuple[str, ...]  # paths that do not exist at this revision


def read_containers(revision: Revision, paths: Iterable[str]) -> Manifests:
    """Every workload container under ``paths`` (repository paths) at ``revision``."""
    reader = _Reader(revision)
    missing = []
    containers: list[Container] = []
    for path in paths:
        if not (revision.is_file(path) or revision.is_dir(path)):
            missing.append(path)
            continue
        containers += reader.path(path)
    return Manifests(tuple(containers), tuple(reader.problems), tuple(missing))


@dataclass(slots=True)
class _Reader:
    revision: Revision
    problems: list[Problem] = field(default_factory=list)

    def path(self, path: str) -> list[Container]:
        if self.revision.is_file(path):
            return self.files([path])
        if (kustomization := self._kustomization_file(path)) is not None:
            return self.kustomization(kustomization, ())
        return self.folder(path)

    def files(self, paths: Sequence[str]) -> list[Container]:
        containers = []
        for path, data in self.revision.read(paths).items():
            found, problems = read_manifest(self.revision.label(path), data)
            containers += found
            self.problems += problems
        return containers

    def folder(self, folder: str) -> list[Container]:
        files = self.revision.files_under(folder)
        kustomizations = {
            posixpath.dirname(f): f
            for f in files
            if posixpath.basename(f) in _KUSTOMIZATION_FILES
        }
        roots = _outermost(kustomizations)
        plain = [
            f
            for f in files
            if f.endswith(_MANIFEST_SUFFIXES) and not _is_under(f, roots)
        ]
        containers = self.files(plain)
        for root in roots:
            containers += self.kustomization(kustomizations[root], ())
        return containers

    def kustomization(self, path: str, outer: tuple[str, ...]) -> list[Container]:
        """The containers a kustomization file renders, overrides applied."""
        folder = posixpath.dirname(path) or "."
        label = self.revision.label(path)
        spec = self._kustomization(path)
        if spec is None:
            return []

        containers = []
        for key in _RESOURCE_KEYS:
            for index, entry in enumerate(_strings(spec.get(key))):
                where = Location(label, 1, f"{key}[{index}]")
                containers += self._resource(folder, entry, where, (*outer, folder))
        return [self._transformed(c, spec, label) for c in containers]

    def _resource(
        self, folder: str, entry: str, where: Location, seen: tuple[str, ...]
    ) -> list[Container]:
        if any(marker in entry for marker in _REMOTE_MARKERS):
            # Remote bases would need the network at a past revision; their
            # images cannot be known here, so they are left out, loudly.
            logger.warning("%s: remote resource %s is not read", where, entry)
            return []
        target = join(folder, entry)
        if target.startswith("../"):
            self.problems.append(where.problem(f"{entry!r} is outside the repository"))
            return []
        if self.revision.is_file(target):
            return self.files([target])
        if target in seen:
            self.problems.append(where.problem(f"{entry!r} includes itself"))
            return []
        if (kustomization := self._kustomization_file(target)) is not None:
            return self.kustomization(kustomization, seen)
        reason = (
            "is a folder without kustomization.yaml"
            if self.revision.is_dir(target)
            else f"does not exist at {self.revision.name}"
        )
        self.problems.append(where.problem(f"{entry!r} {reason}"))
        return []

    def _kustomization_file(self, folder: str) -> str | None:
        for name in _KUSTOMIZATION_FILES:
            path = join(folder, name)
            if self.revision.is_file(path):
                return path
        return None

    def _kustomization(self, path: str) -> Mapping[str, Any] | None:
        label = self.revision.label(path)
        data = self.revision.read([path])[path]
        try:
            # Every value kustomize reads here is a string (a tag of 1.10 is
            # "1.10", not a number), so no scalar is converted.
            spec = yaml.load(data, Loader=yaml.BaseLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else ""
            self.problems.append(
                Location(label, 1, where).problem(f"not valid YAML: {exc}")
            )
            return None
        if not isinstance(spec, Mapping):
            self.problems.append(Location(label, 1).problem("must hold a mapping"))
            return None
        return spec

    def _transformed(
        self, container: Container, spec: Mapping[str, Any], label: str
    ) -> Container:
        prefix, suffix = spec.get("namePrefix", ""), spec.get("nameSuffix", "")
        namespace = spec.get("namespace") or container.namespace
        container = replace(
            container,
            workload=f"{prefix}{container.workload}{suffix}",
            namespace=namespace,
        )
        for index, entry in enumerate(spec.get("images") or ()):
            where = Location(label, 1, f"images[{index}]")
            image = self._override(container.image, entry, where)
            if image is not None:
                container = replace(container, image=image, location=where)
        return container

    def _override(
        self, image: ImageRef, entry: Any, where: Location
    ) -> ImageRef | None:
        """``image`` after one ``images:`` entry, or None when it does not apply."""
        if not isinstance(entry, Mapping) or not entry.get("name"):
            self.problems.append(where.problem("an images entry needs a name"))
            return None
        if entry["name"] != image.name:
            return None
        try:
            return image.replaced(
                entry.get("newName"), entry.get("newTag"), entry.get("digest")
            )
        except ValueError as exc:
            self.problems.append(
                where.problem(
                    f"the override gives no valid image reference: {exc}",
                    hint="newName is a repository, newTag a tag, digest sha256:...",
                )
            )
            return None


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _outermost(folders: Iterable[str]) -> list[str]:
    roots: list[str] = []
    for folder in sorted(set(folders), key=len):
        if not _is_under(folder + "/", roots):
            roots.append(folder)
    return sorted(roots)


def _is_under(path: str, folders: Iterable[str]) -> bool:
    return any(f in ("", ".") or path.startswith(f + "/") for f in folders)
