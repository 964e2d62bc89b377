"""The rollout gate on the real sample shop, with the process backend.

Each scenario starts the real sample services side by side; the verdicts and
rollout orders are what DESIGN.md promises for these changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.config import load_system
from harness.core.model import Decision, Outcome
from harness.engine.events import RunReport
from harness.engine.gate import run_gate
from harness.planning import plan_change

pytestmark = pytest.mark.slow


def gate(
    repo: Path, candidates: dict[str, str], baselines: dict[str, str] | None = None
) -> RunReport:
    system = load_system(repo / "rollout.yaml")
    return run_gate(system, plan_change(system, candidates, baselines))


def outcome(report: RunReport, cell_id: str) -> Outcome:
    return next(r.outcome for r in report.results if r.cell.id == cell_id)


def findings(report: RunReport, cell_id: str) -> str:
    result = next(r for r in report.results if r.cell.id == cell_id)
    return "\n".join(f"{f.location} {f.message}" for f in result.failures())


def position(report: RunReport, service: str) -> int:
    return next(i for i, stage in enumerate(report.verdict.stages) if service in stage)


def test_additive_provider_change_is_allowed(repo: Path) -> None:
    report = gate(repo, {"inventory": "v2"})

    assert report.verdict.decision is Decision.ALLOWED, report.verdict.reasons
    assert outcome(report, "orders@v1->inventory@v2") is Outcome.COMPATIBLE
    assert outcome(report, "orders@v1->inventory@v1") is Outcome.COMPATIBLE


def test_renamed_response_field_is_blocked_and_named(repo: Path) -> None:
    report = gate(repo, {"inventory": "v3"}, baselines={"inventory": "v2"})

    assert report.verdict.decision is Decision.BLOCKED
    assert outcome(report, "orders@v1->inventory@v3") is Outcome.INCOMPATIBLE
    assert "stock" in findings(report, "orders@v1->inventory@v3")
    assert report.verdict.exit_code == 1


def test_consumer_needing_a_newer_provider_says_provider_first(repo: Path) -> None:
    report = gate(repo, {"orders": "v2"})

    assert report.verdict.decision is Decision.BLOCKED
    assert outcome(report, "orders@v2->inventory@v1") is Outcome.INCOMPATIBLE
    assert any("inventory must move first" in r for r in report.verdict.reasons)


def test_provider_and_consumer_together_roll_provider_first(repo: Path) -> None:
    report = gate(repo, {"inventory": "v2", "orders": "v2"})

    assert report.verdict.decision is Decision.ALLOWED, report.verdict.reasons
    assert report.verdict.stages == (("inventory",), ("orders",))


def test_message_rename_with_tolerant_consumer_rolls_consumer_first(
    repo: Path,
) -> None:
    report = gate(repo, {"notifier": "v2", "storefront": "v2"})

    assert report.verdict.decision is Decision.ALLOWED, report.verdict.reasons
    assert position(report, "storefront") < position(report, "notifier")
    assert outcome(report, "storefront@v1->notifier@v2") is Outcome.INCOMPATIBLE
    assert "order_id missing" in findings(report, "storefront@v1->notifier@v2")


def test_message_rename_alone_is_blocked(repo: Path) -> None:
    report = gate(repo, {"notifier": "v2"})

    assert report.verdict.decision is Decision.BLOCKED
    assert any("storefront must move first" in r for r in report.verdict.reasons)


def test_all_four_services_at_once(repo: Path) -> None:
    everything = {
        "inventory": "v2",
        "orders": "v2",
        "notifier": "v2",
        "storefront": "v2",
    }

    report = gate(repo, everything)

    assert report.verdict.decision is Decision.ALLOWED, report.verdict.reasons
    assert position(report, "inventory") < position(report, "orders")
    assert position(report, "storefront") < position(report, "notifier")
    # Each (service, version, wiring) started once, however many cells use it.
    assert report.instances_started == len(
        plan_change(load_system(repo / "rollout.yaml"), everything).instances
    )
