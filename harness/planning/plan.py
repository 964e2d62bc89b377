"""From baseline and candidate versions to the cells and instances of a run.

Wiring: an instance's own providers are started at the versions of the same
generation as the instance itself. A provider at its candidate version is wired
to its providers' candidates, one at its baseline to their baselines. Those
are the pairs that always coexist during the rollout, whatever order it takes
(they are "today" and "after the rollout"); the mixed pairs of each edge are the
cells of that edge and get verified there, so a failure is reported on the edge
that causes it rather than on every edge downstream of it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from harness.core.config import unknown_versions
from harness.core.errors import ConfigError
from harness.core.instances import InstanceKey, InstanceSpec, Wire
from harness.core.model import Bump, Cell, CheckKind, Pairing
from harness.core.system import EdgeSpec, System

__all__ = ["Plan", "PlannedCell", "plan_change"]

logger = logging.getLogger(__name__)


class _Generation(enum.Enum):
    BASELINE = "baseline"
    CANDIDATE = "candidate"


@dataclass(frozen=True, slots=True)
class PlannedCell:
    """A cell, the checks it gets, and the instances those checks need."""

    cell: Cell
    edge: EdgeSpec
    checks: tuple[CheckKind, ...]
    provider_instance: InstanceKey | None = None

    @property
    def needs_instances(self) -> bool:
        return any(kind.needs_instances for kind in self.checks)


@dataclass(frozen=True, slots=True)
class Plan:
    """The cells to check and the instances they need, before anything runs."""

    system: System
    baselines: Mapping[str, str]
    candidates: Mapping[str, str]
    bumps: tuple[Bump, ...]
    cells: tuple[PlannedCell, ...]
    instances: tuple[InstanceSpec, ...]

    @property
    def is_empty(self) -> bool:
        return not self.bumps

    def consumer_instance(self, cell: Cell) -> tuple[InstanceSpec, ...]:
        """Specs to run ``cell``'s consumer version wired to its provider version.

        The consumer's other providers are wired within its generation, like
        every instance's. Providers come first and the consumer last, and the
        provider is the same instance the cell's checks use.
        """
        wiring = _Wiring(self.system, self.baselines, self.candidates)
        provider = wiring.key(cell.edge.provider, cell.provider_version)
        consumer = wiring.key(
            cell.edge.consumer,
            cell.consumer_version,
            overrides={cell.edge.provider: provider},
        )
        return wiring.specs({consumer})

    def only(self, selected: Collection[tuple[Cell, CheckKind]]) -> Plan:
        """This plan cut down to the ``selected`` checks and the instances they need."""
        cells = []
        for planned in self.cells:
            checks = tuple(k for k in planned.checks if (planned.cell, k) in selected)
            if not checks:
                continue
            dynamic = any(kind.needs_instances for kind in checks)
            provider = planned.provider_instance if dynamic else None
            cells.append(replace(planned, checks=checks, provider_instance=provider))

        needed: set[InstanceKey] = set()
        pending = [p.provider_instance for p in cells if p.provider_instance]
        while pending:
            key = pending.pop()
            needed.add(key)
            pending += [provider for _, provider in key.wiring]
        instances = tuple(spec for spec in self.instances if spec.key in needed)
        return replace(self, cells=tuple(cells), instances=instances)


def plan_change(
    system: System,
    candidates: Mapping[str, str],
    baselines: Mapping[str, str] | None = None,
) -> Plan:
    """Plan the cells a rolling update from ``baselines`` to ``candidates`` creates.

    ``baselines`` overrides the config's baseline per service; services not in
    ``candidates`` stay at their baseline.
    """
    base = {**system.baselines(), **(baselines or {})}
    _check_versions(system, base, "--baseline")
    _check_versions(system, candidates, "--candidate")
    target = {**base, **candidates}

    bumps = tuple(
        Bump(service, base[service], target[service])
        for service in sorted(system.services)
        if base[service] != target[service]
    )
    bumped = {bump.service for bump in bumps}
    wiring = _Wiring(system, base, target)

    cells = tuple(
        planned
        for spec in system.edges
        if bumped & {spec.consumer, spec.provider}
        for planned in _edge_cells(spec, base, target, wiring)
    )
    keys = {p.provider_instance for p in cells if p.provider_instance is not None}
    instances = wiring.specs(keys)
    logger.info(
        "planned %d cells and %d instances for %d bumps",
        len(cells),
        len(instances),
        len(bumps),
    )
    return Plan(system, base, target, bumps, cells, instances)


def _check_versions(system: System, versions: Mapping[str, str], option: str) -> None:
    problems = unknown_versions(system, versions, option)
    if problems:
        raise ConfigError(problems)


def _edge_cells(
    spec: EdgeSpec,
    base: Mapping[str, str],
    target: Mapping[str, str],
    wiring: _Wiring,
) -> list[PlannedCell]:
    consumer, provider = spec.consumer, spec.provider
    pairs = [(Pairing.TODAY, base[consumer], base[provider])]
    if base[provider] != target[provider]:
        pairs.append((Pairing.PROVIDER_AHEAD, base[consumer], target[provider]))
    if base[consumer] != target[consumer]:
        pairs.append((Pairing.CONSUMER_AHEAD, target[consumer], base[provider]))
        if base[provider] != target[provider]:
            pairs.append((Pairing.AFTER, target[consumer], target[provider]))

    planned = []
    for pairing, consumer_version, provider_version in pairs:
        cell = Cell(spec.edge, consumer_version, provider_version, pairing)
        planned.append(_planned_cell(cell, spec, wiring))
    return planned


def _planned_cell(cell: Cell, spec: EdgeSpec, wiring: _Wiring) -> PlannedCell:
    checks = spec.checks
    if not any(kind.needs_instances for kind in checks):
        return PlannedCell(cell, spec, checks)

    return PlannedCell(
        cell, spec, checks, wiring.key(spec.provider, cell.provider_version)
    )


class _Wiring:
    """Builds instance keys and specs with same-generation wiring."""

    def __init__(
        self, system: System, base: Mapping[str, str], target: Mapping[str, str]
    ) -> None:
        self._system = system
        self._versions = {
            _Generation.BASELINE: base,
            _Generation.CANDIDATE: target,
        }

    def key(
        self,
        service: str,
        version: str,
        overrides: Mapping[str, InstanceKey] | None = None,
    ) -> InstanceKey:
        generation = (
            _Generation.CANDIDATE
            if version == self._versions[_Generation.CANDIDATE][service]
            and version != self._versions[_Generation.BASELINE][service]
            else _Generation.BASELINE
        )
        return self._key(service, version, generation, overrides or {})

    def _key(
        self,
        service: str,
        version: str,
        generation: _Generation,
        overrides: Mapping[str, InstanceKey],
    ) -> InstanceKey:
        versions = self._versions[generation]
        wiring = tuple(
            (
                dep.provider,
                overrides.get(dep.provider)
                or self._key(dep.provider, versions[dep.provider], generation, {}),
            )
            for dep in self._system.dependencies_of(service)
        )
        return InstanceKey(service, version, wiring)

    def specs(self, keys: set[InstanceKey]) -> tuple[InstanceSpec, ...]:
        """Specs for ``keys`` and everything they are wired to, providers first."""
        ordered: list[InstanceSpec] = []
        seen: set[InstanceKey] = set()

        def visit(key: InstanceKey) -> None:
            if key in seen:
                return
            seen.add(key)
            for _, provider in key.wiring:
                visit(provider)
            ordered.append(self._spec(key))

        for key in sorted(keys):
            visit(key)
        return tuple(ordered)

    def _spec(self, key: InstanceKey) -> InstanceSpec:
        service = self._system.services[key.service]
        edges = {dep.provider: dep for dep in self._system.dependencies_of(key.service)}
        wires = tuple(
            Wire(edges[name].env, edges[name].protocol, provider)
            for name, provider in key.wiring
        )
        return InstanceSpec(key, service.versions[key.version], wires)
