"""Which service a workload container is, and which version its image is.

A service's ``kubernetes:`` mapping selects containers:

- with ``image`` (a repository), every container running that repository,
  narrowed by ``workload`` and ``container`` when they are given;
- without it, the workload named ``workload`` (default: the service's name;
  ``Kind/name`` picks one kind) and in it the container named ``container``
  (default: the one kubectl picks, the annotated default or else the first).

An image is the version whose ``image`` names the same build; failing that,
the version named like the image's tag or digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.core.errors import Problem
from harness.core.system import System, WorkloadMapping
from harness.manifests.images import ImageRef, parse_image
from harness.manifests.workloads import Container

__all__ = ["Catalog", "versions_by_service"]


@dataclass(frozen=True, slots=True)
class _Selector:
    service: str
    kind: str | None
    workload: str | None
    container: str | None
    repository: str | None

    @classmethod
    def from_mapping(
        cls, service: str, mapping: WorkloadMapping, image: ImageRef | None
    ) -> _Selector:
        workload = mapping.workload or (None if image else service)
        kind, _, name = (workload or "").rpartition("/")
        return cls(
            service=service,
            kind=kind.lower() or None,
            workload=name or None,
            container=mapping.container,
            repository=image.repository if image else None,
        )

    def selects(self, container: Container) -> bool:
        if self.repository and container.image.repository != self.repository:
            return False
        if self.kind and container.kind.lower() != self.kind:
            return False
        if self.workload and container.workload != self.workload:
            return False
        if self.container:
            return container.name == self.container
        return self.repository is not None or container.default


class Catalog:
    """The services and versions of a system, matched against containers.

    Problems (an image that is no known version, a container two services
    claim) are collected in ``problems`` rather than raised one at a time.
    """

    def __init__(self, system: System) -> None:
        self.system = system
        self.problems: list[Problem] = []
        self._selectors = [
            _Selector.from_mapping(name, spec.kubernetes, self._mapped_image(name))
            for name, spec in system.services.items()
        ]
        self._images = {
            (service, version): image
            for service, spec in system.services.items()
            for version in spec.versions
            if (image := self._version_image(service, version)) is not None
        }

    def service_of(self, container: Container) -> str | None:
        """The service ``container`` belongs to, or None when it maps to none."""
        services = [s.service for s in self._selectors if s.selects(container)]
        if len(services) > 1:
            self.problems.append(
                container.location.problem(
                    f"container {container.name!r} of {container.workload_id} is "
                    "mapped to several services: " + ", ".join(services),
                    hint="narrow their kubernetes: mappings (workload, container) in "
                    f"{self.system.source}",
                )
            )
        return services[0] if services else None

    def version_of(self, service: str, container: Container) -> str | None:
        """The version of ``service`` that ``container``'s image is."""
        image = container.image
        by_image = [
            version
            for version in self.system.services[service].versions
            if (known := self._images.get((service, version))) is not None
            and image.same_build(known)
        ]
        if len(by_image) == 1:
            return by_image[0]

        names = {image.effective_tag, image.digest}
        by_name = [v for v in self.system.services[service].versions if v in names]
        if not by_image and by_name:
            return by_name[0]

        self.problems.append(self._unknown(service, container, by_image))
        return None

    def group(
        self, containers: Iterable[Container]
    ) -> tuple[dict[str, list[Container]], list[Container]]:
        """Containers by service, and those that map to no service."""
        by_service: dict[str, list[Container]] = {}
        unmapped = []
        for container in containers:
            service = self.service_of(container)
            if service is None:
                unmapped.append(container)
            else:
                by_service.setdefault(service, []).append(container)
        return by_service, unmapped

    def _unknown(
        self, service: str, container: Container, same_image: list[str]
    ) -> Problem:
        source = self.system.source
        if same_image:
            return container.location.problem(
                f"image {container.image} of service {service!r} is several of its "
                "versions: " + ", ".join(same_image),
                hint=f"give each version of {service} its own image in {source}",
            )
        return container.location.problem(
            f"image {container.image} of service {service!r} is none of its versions",
            hint=f"add a version under services.{service}.versions in {source} "
            f"with image: {container.image}",
        )

    def _mapped_image(self, service: str) -> ImageRef | None:
        text = self.system.services[service].kubernetes.image
        return self._parsed(text, f"services.{service}.kubernetes.image")

    def _version_image(self, service: str, version: str) -> ImageRef | None:
        text = self.system.services[service].versions[version].image
        return self._parsed(text, f"services.{service}.versions.{version}.image")

    def _parsed(self, text: str | None, key: str) -> ImageRef | None:
        if not text:
            return None
        try:
            return parse_image(text)
        except ValueError as exc:
            self.problems.append(
                Problem(
                    str(self.system.source),
                    key,
                    f"cannot parse image reference {text!r}: {exc}",
                    hint="write it as [registry[:port]/]repository[:tag][@digest]",
                )
            )
            return None


def versions_by_service(
    catalog: Catalog, grouped: Mapping[str, list[Container]]
) -> dict[str, tuple[str, Container]]:
    """One version per service, with the container that shows it."""
    found: dict[str, tuple[str, Container]] = {}
    for service, containers in grouped.items():
        versions: dict[str, Container] = {}
        for container in containers:
            version = catalog.version_of(service, container)
            if version is not None:
                versions.setdefault(version, container)
        if len(versions) > 1:
            catalog.problems.append(_several(catalog.system, service, versions))
        if versions:
            found[service] = next(iter(versions.items()))
    return found


def _several(
    system: System, service: str, versions: Mapping[str, Container]
) -> Problem:
    first = next(iter(versions.values()))
    shown = "; ".join(f"{v} ({c.location})" for v, c in versions.items())
    return first.location.problem(
        f"service {service!r} runs several versions in one revision: {shown}",
        hint=f"narrow services.{service}.kubernetes in {system.source}, or list "
        "one overlay under manifests",
    )
