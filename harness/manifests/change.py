"""The bumps a change makes, read from the manifests of two git revisions.

The base revision's images are what runs today (N-1), the head revision's are
what the change proposes (N). Each revision is read straight from git, so the
working tree can hold anything, even a third revision.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import ManifestError, Problem
from harness.core.model import Bump
from harness.core.system import System
from harness.manifests.git import GitRepository
from harness.manifests.mapping import Catalog, versions_by_service
from harness.manifests.sources import Manifests, read_containers
from harness.manifests.workloads import Container

__all__ = ["GitChange", "ImageChange", "bumps_from_git"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageChange:
    """A workload container whose image differs between base and head."""

    workload: str
    container: str
    base: str
    head: str
    location: str  # where the head image is written
    service: str | None = None

    def __str__(self) -> str:
        return f"{self.workload} container {self.container}: {self.base} -> {self.head}"


@dataclass(frozen=True, slots=True)
class GitChange:
    """What a change between two revisions does to the services of a system.

    ``baselines`` holds the version of every service the base revision deploys;
    ``candidates`` the head version of every service it bumps. Services that
    vanish or appear are listed, but they are no bumps: one side has no version.
    """

    base: str
    head: str
    baselines: Mapping[str, str]
    candidates: Mapping[str, str]
    changes: tuple[ImageChange, ...] = ()
    unmapped: tuple[ImageChange, ...] = ()
    vanished: tuple[str, ...] = ()
    appeared: tuple[str, ...] = ()

    @property
    def bumps(self) -> tuple[Bump, ...]:
        return tuple(
            Bump(service, self.baselines[service], candidate)
            for service, candidate in sorted(self.candidates.items())
        )

    def notes(self) -> tuple[str, ...]:
        """What a reader of the report must know beyond the bumps."""
        notes = [
            f"image changed but maps to no service, not checked: {change}"
            for change in self.unmapped
        ]
        notes += [
            f"service {service} has no workload at {self.head} any more "
            "(vanished, not checked)"
            for service in self.vanished
        ]
        notes += [
            f"service {service} has no workload at {self.base} (new, not checked)"
            for service in self.appeared
        ]
        return tuple(notes)


def bumps_from_git(system: System, base: str, head: str = "HEAD") -> GitChange:
    """Compare the manifests of ``base`` and ``head`` and return the change.

    Raises :class:`ManifestError` for a revision that does not exist, a manifest
    that is not YAML or holds an invalid workload, and an image that is no
    known version of the service it maps to.
    """
    repo = GitRepository.containing(system.root, str(system.source))
    paths = _manifest_paths(system, repo)
    old = read_containers(repo.revision(base, "--base"), paths.values())
    new = read_containers(repo.revision(head, "--head"), paths.values())
    _check_read(system, paths, (old, base), (new, head))

    catalog = Catalog(system)
    old_services, old_unmapped = catalog.group(old.containers)
    new_services, new_unmapped = catalog.group(new.containers)
    before = versions_by_service(catalog, old_services)
    after = versions_by_service(catalog, new_services)
    if catalog.problems:
        raise ManifestError(_unique(catalog.problems))

    change = _compare(base, head, before, after, _unmapped(old_unmapped, new_unmapped))
    logger.info(
        "%s..%s: %d bumps, %d unmapped image changes",
        base,
        head,
        len(change.candidates),
        len(change.unmapped),
    )
    return change


def _manifest_paths(system: System, repo: GitRepository) -> dict[str, str]:
    """The config's manifest paths as repository paths, by config entry."""
    if not system.manifests:
        raise ManifestError(
            [
                Problem(
                    str(system.source),
                    "manifests",
                    "no manifest paths are configured",
                    hint="list the folders of your Kubernetes manifests, e.g. "
                    "manifests: [deploy]",
                )
            ]
        )
    paths, problems = {}, []
    for index, entry in enumerate(system.manifests):
        # normpath, not resolve(): a symbolic link in the working tree says
        # nothing about where the files live in another revision.
        inside = repo.relative(Path(os.path.normpath(system.root / entry)))
        if inside is None:
            problems.append(
                Problem(
                    str(system.source),
                    f"manifests[{index}]",
                    f"{entry!r} is outside the git repository {repo.root}",
                    hint="manifests are read from git revisions of this repository",
                )
            )
        else:
            paths[entry] = inside
    if problems:
        raise ManifestError(problems)
    return paths


def _check_read(
    system: System,
    paths: Mapping[str, str],
    *revisions: tuple[Manifests, str],
) -> None:
    problems = [p for manifests, _ in revisions for p in manifests.problems]
    for index, (entry, path) in enumerate(paths.items()):
        absent = [name for manifests, name in revisions if path in manifests.missing]
        if len(absent) == len(revisions):
            problems.append(
                Problem(
                    str(system.source),
                    f"manifests[{index}]",
                    f"{entry!r} exists at neither " + " nor ".join(absent),
                    hint="fix the path; it is relative to the config file",
                )
            )
        for name in absent:
            logger.info("%s does not exist at %s", path, name)
    if problems:
        raise ManifestError(_unique(problems))


def _compare(
    base: str,
    head: str,
    before: Mapping[str, tuple[str, Container]],
    after: Mapping[str, tuple[str, Container]],
    unmapped: tuple[ImageChange, ...],
) -> GitChange:
    changes, candidates = [], {}
    for service in sorted(before.keys() & after.keys()):
        (old_version, old), (new_version, new) = before[service], after[service]
        if old.image != new.image:
            changes.append(_image_change(old, new, service))
        if old_version != new_version:
            candidates[service] = new_version
    return GitChange(
        base=base,
        head=head,
        baselines={service: version for service, (version, _) in before.items()},
        candidates=candidates,
        changes=(*changes, *unmapped),
        unmapped=unmapped,
        vanished=tuple(sorted(before.keys() - after.keys())),
        appeared=tuple(sorted(after.keys() - before.keys())),
    )


def _unmapped(
    old: Sequence[Container], new: Sequence[Container]
) -> tuple[ImageChange, ...]:
    """Image changes of containers that belong to no service."""
    before = {container.identity: container for container in old}
    return tuple(
        _image_change(before[container.identity], container)
        for container in new
        if container.identity in before
        and before[container.identity].image != container.image
    )


def _image_change(
    old: Container, new: Container, service: str | None = None
) -> ImageChange:
    return ImageChange(
        workload=new.workload_id,
        container=new.name,
        base=str(old.image),
        head=str(new.image),
        location=str(new.location),
        service=service,
    )


def _unique(problems: Sequence[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
