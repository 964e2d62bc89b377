"""Runs a plan on a backend and streams events to its listeners."""

from harness.engine.events import (
    CellFinished,
    CheckFinished,
    Event,
    InstanceFailed,
    InstanceStarted,
    InstanceStarting,
    Listener,
    RunFinished,
    RunReport,
    RunStarted,
)
from harness.engine.pool import InstancePool
from harness.engine.runner import new_run_id, preflight, run_plan
from harness.engine.signals import Terminated, terminate_gracefully

__all__ = [
    "CellFinished",
    "CheckFinished",
    "Event",
    "InstanceFailed",
    "InstancePool",
    "InstanceStarted",
    "InstanceStarting",
    "Listener",
    "RunFinished",
    "RunReport",
    "RunStarted",
    "Terminated",
    "new_run_id",
    "preflight",
    "run_plan",
    "terminate_gracefully",
]
