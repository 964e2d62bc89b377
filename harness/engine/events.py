"""What the engine tells its listeners while a run goes on.

The CLI, the pytest plugin and every report writer listen to this one stream;
none of them re-implements the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.core.instances import InstanceKey
from harness.core.model import Bump, Cell, CellResult, CheckResult, Verdict

__all__ = [
    "CellFinished",
    "CheckFinished",
    "Event",
    "InstanceFailed",
    "InstanceStarted",
    "InstanceStarting",
    "Listener",
    "RunFinished",
    "RunReport",
    "RunStarted",
]


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything a report needs once the run is over."""

    run_id: str
    system: str
    backend: str
    bumps: tuple[Bump, ...]
    results: tuple[CellResult, ...]
    verdict: Verdict
    duration: float
    instances_started: int


@dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: str
    backend: str
    cells: tuple[Cell, ...]
    instances: tuple[InstanceKey, ...]


@dataclass(frozen=True, slots=True)
class InstanceStarting:
    key: InstanceKey


@dataclass(frozen=True, slots=True)
class InstanceStarted:
    key: InstanceKey
    url: str
    seconds: float


@dataclass(frozen=True, slots=True)
class InstanceFailed:
    key: InstanceKey
    reason: str
    logs: str


@dataclass(frozen=True, slots=True)
class CheckFinished:
    cell: Cell
    result: CheckResult


@dataclass(frozen=True, slots=True)
class CellFinished:
    result: CellResult


@dataclass(frozen=True, slots=True)
class RunFinished:
    report: RunReport


Event = (
    RunStarted
    | InstanceStarting
    | InstanceStarted
    | InstanceFailed
    | CheckFinished
    | CellFinished
    | RunFinished
)
Listener = Callable[[Event], None]
