"""Bumps, cells and instances of a change; its verdict and rollout order."""

from harness.planning.plan import Plan, PlannedCell, plan_change
from harness.planning.verdict import decide, rollout_stages

__all__ = ["Plan", "PlannedCell", "decide", "plan_change", "rollout_stages"]
