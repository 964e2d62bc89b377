"""The description of a system, as read from ``rollout.yaml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.model import CheckKind, Edge, Protocol

__all__ = [
    "CheckSettings",
    "Consumption",
    "EdgeSpec",
    "ServiceSpec",
    "System",
    "VersionSpec",
    "WorkloadMapping",
]


@dataclass(frozen=True, slots=True)
class Consumption:
    """What one consumer version expects of one provider.

    ``built_against`` names the provider version whose contract the consumer was
    built with; conformance and spec-diff compare providers against it.
    """

    provider: str
    pact: Path | None = None
    messages: Path | None = None
    built_against: str | None = None


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """One version of a service and how to run it on each backend."""

    name: str
    command: tuple[str, ...] = ()
    image: str | None = None
    port: int = 8000
    health: str = "/health"
    env: Mapping[str, str] = field(default_factory=dict)
    provides: Path | None = None
    consumes: Mapping[str, Consumption] = field(default_factory=dict)
    provider_states: str | None = None
    startup_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class WorkloadMapping:
    """How a Kubernetes workload container maps to this service."""

    workload: str | None = None
    container: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A deployable unit, its baseline and its known versions."""

    name: str
    baseline: str
    versions: Mapping[str, VersionSpec]
    kubernetes: WorkloadMapping = WorkloadMapping()

    def version(self, name: str) -> VersionSpec:
        return self.versions[name]


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    """A dependency and how the consumer is told the provider's address."""

    edge: Edge
    env: str
    channel: str = "/"
    checks: tuple[CheckKind, ...] = ()
    messages: int = 3
    message_timeout: float = 5.0

    @property
    def consumer(self) -> str:
        return self.edge.consumer

    @property
    def provider(self) -> str:
        return self.edge.provider

    @property
    def protocol(self) -> Protocol:
        return self.edge.protocol


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Run-wide settings of the checks; the seed makes failures replayable."""

    examples: int = 25
    seed: int = 20261203
    request_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class System:
    """Everything ``rollout.yaml`` says: services, versions, edges, settings."""

    name: str
    source: Path
    services: Mapping[str, ServiceSpec]
    edges: tuple[EdgeSpec, ...]
    settings: CheckSettings = CheckSettings()
    manifests: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """The folder relative paths in the config are resolved against."""
        return self.source.parent

    def dependencies_of(self, service: str) -> tuple[EdgeSpec, ...]:
        return tuple(e for e in self.edges if e.consumer == service)

    def baselines(self) -> dict[str, str]:
        return {name: spec.baseline for name, spec in self.services.items()}
