"""Checks every consumer/provider version pair a rolling update can create.

The public API is small: load a system description, plan a change, run the gate
on a backend, and read the report::

    system = load_system("rollout.yaml")
    plan = plan_change(system, candidates={"inventory": "v2"})
    report = run_gate(system, plan)
    report.verdict.decision  # Decision.ALLOWED or Decision.BLOCKED

Names are imported on first use, so that importing ``harness`` (as pytest does
for the plugin) costs nothing until the gate is actually used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.core.config import load_system
    from harness.core.errors import BadInput, EnvironmentFailure, HarnessError
    from harness.core.model import (
        Cell,
        CellResult,
        CheckKind,
        CheckResult,
        Decision,
        Finding,
        Outcome,
        Verdict,
    )
    from harness.engine.events import RunReport
    from harness.engine.gate import run_gate
    from harness.planning import Plan, plan_change

_HOMES = {
    "load_system": "harness.core.config",
    "BadInput": "harness.core.errors",
    "EnvironmentFailure": "harness.core.errors",
    "HarnessError": "harness.core.errors",
    "Cell": "harness.core.model",
    "CellResult": "harness.core.model",
    "CheckKind": "harness.core.model",
    "CheckResult": "harness.core.model",
    "Decision": "harness.core.model",
    "Finding": "harness.core.model",
    "Outcome": "harness.core.model",
    "Verdict": "harness.core.model",
    "RunReport": "harness.engine.events",
    "run_gate": "harness.engine.gate",
    "Plan": "harness.planning",
    "plan_change": "harness.planning",
}

__all__ = [
    "BadInput",
    "Cell",
    "CellResult",
    "CheckKind",
    "CheckResult",
    "Decision",
    "EnvironmentFailure",
    "Finding",
    "HarnessError",
    "Outcome",
    "Plan",
    "RunReport",
    "Verdict",
    "load_system",
    "plan_change",
    "run_gate",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
