"""Checks every consumer/provider version pair a rolling update can create.

The public API is small: load a system description, plan a change, run the gate
on a backend, and read the report::

    system = load_system("rollout.yaml")
    plan = plan_change(system, candidates={"inventory": "v2"})
    report = run_gate(system, plan)
    report.verdict.decision  # Decision.ALLOWED or Decision.BLOCKED
"""

from harness.core.config import load_system
from harness.core.errors import (
    BadInput,
    EnvironmentFailure,
    HarnessError,
)
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
