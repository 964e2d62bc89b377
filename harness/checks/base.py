"""What every check receives, and the shape of a check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.core.model import Cell, CheckKind, CheckResult
from harness.core.system import (
    CheckSettings,
    Consumption,
    EdgeSpec,
    System,
    VersionSpec,
)

__all__ = ["Check", "CheckContext"]


@dataclass(frozen=True, slots=True)
class CheckContext:
    """One cell, the specs of both sides, and where their instances run.

    ``provider_url`` is ``None`` for static checks, which run before anything
    is started.
    """

    system: System
    cell: Cell
    edge: EdgeSpec
    provider_url: str | None = None

    @property
    def settings(self) -> CheckSettings:
        return self.system.settings

    @property
    def consumer(self) -> VersionSpec:
        service = self.system.services[self.cell.edge.consumer]
        return service.versions[self.cell.consumer_version]

    @property
    def provider(self) -> VersionSpec:
        service = self.system.services[self.cell.edge.provider]
        return service.versions[self.cell.provider_version]

    @property
    def consumption(self) -> Consumption | None:
        """What the consumer version declares it expects of this provider."""
        return self.consumer.consumes.get(self.cell.edge.provider)

    @property
    def built_against(self) -> VersionSpec:
        """The provider version whose contract the consumer version was built with.

        Without ``built_against`` in the config, the provider's baseline: a
        consumer that says nothing was built against what runs today.
        """
        service = self.system.services[self.cell.edge.provider]
        consumption = self.consumption
        name = consumption.built_against if consumption else None
        return service.versions[name or service.baseline]

    @property
    def expected_contract(self) -> Path | None:
        """The provider contract the consumer version relies on."""
        return self.built_against.provides


@dataclass(frozen=True, slots=True)
class Check:
    """A kind of check: ``run`` verifies a cell; ``preflight`` reads its documents.

    ``preflight`` runs before any instance starts, so that a broken contract ends
    the run as bad input (exit 2) instead of surfacing halfway through.
    """

    kind: CheckKind
    run: Callable[[CheckContext], CheckResult]
    preflight: Callable[[CheckContext], None]
