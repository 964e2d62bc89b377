"""From cell outcomes to allowed/blocked and a rollout order."""

from __future__ import annotations

from harness.core.model import (
    Bump,
    Cell,
    CellResult,
    CheckKind,
    CheckResult,
    Decision,
    Edge,
    Finding,
    Outcome,
    Pairing,
)
from harness.planning import decide, rollout_stages

ORDERS = Edge("orders", "inventory")
STREAM = Edge("storefront", "notifier")


def result(
    edge: Edge, pairing: Pairing, outcome: Outcome, c: str, p: str
) -> CellResult:
    cell = Cell(edge, c, p, pairing)
    if outcome is Outcome.INCOMPATIBLE:
        check = CheckResult.from_findings(CheckKind.PACT, [Finding("field x missing")])
    elif outcome is Outcome.ERROR:
        check = CheckResult.from_error(CheckKind.PACT, "instance did not start")
    else:
        check = CheckResult(CheckKind.PACT, outcome)
    return CellResult(cell, (check,))


OK, BAD, ERR = Outcome.COMPATIBLE, Outcome.INCOMPATIBLE, Outcome.ERROR


def four(edge: Edge, pa: Outcome, ca: Outcome, after: Outcome) -> list[CellResult]:
    return [
        result(edge, Pairing.TODAY, OK, "v1", "v1"),
        result(edge, Pairing.PROVIDER_AHEAD, pa, "v1", "v2"),
        result(edge, Pairing.CONSUMER_AHEAD, ca, "v2", "v1"),
        result(edge, Pairing.AFTER, after, "v2", "v2"),
    ]


BOTH = [Bump("orders", "v1", "v2"), Bump("inventory", "v1", "v2")]


def test_all_compatible_is_allowed_in_one_stage() -> None:
    verdict = decide(BOTH, four(ORDERS, OK, OK, OK))

    assert verdict.decision is Decision.ALLOWED
    assert verdict.stages == (("inventory", "orders"),)
    assert verdict.exit_code == 0


def test_new_consumer_failing_on_old_provider_puts_provider_first() -> None:
    verdict = decide(BOTH, four(ORDERS, OK, BAD, OK))

    assert verdict.allowed
    assert verdict.stages == (("inventory",), ("orders",))


def test_old_consumer_failing_on_new_provider_puts_consumer_first() -> None:
    verdict = decide(BOTH, four(ORDERS, BAD, OK, OK))

    assert verdict.allowed
    assert verdict.stages == (("orders",), ("inventory",))


def test_both_mixed_pairs_failing_needs_a_split() -> None:
    verdict = decide(BOTH, four(ORDERS, BAD, BAD, OK))

    assert verdict.decision is Decision.BLOCKED
    assert any("split the change" in advice for advice in verdict.advice)
    assert verdict.exit_code == 1


def test_failure_after_the_rollout_blocks() -> None:
    verdict = decide(BOTH, four(ORDERS, OK, OK, BAD))

    assert not verdict.allowed
    assert "fails after the rollout" in verdict.reasons[0]


def test_provider_not_in_the_change_must_move_first() -> None:
    bumps = [Bump("orders", "v1", "v2")]
    cells = [
        result(ORDERS, Pairing.TODAY, OK, "v1", "v1"),
        result(ORDERS, Pairing.CONSUMER_AHEAD, BAD, "v2", "v1"),
    ]

    verdict = decide(bumps, cells)

    assert not verdict.allowed
    assert "inventory must move first" in verdict.reasons[0]
    assert "field x missing" in verdict.reasons[0]


def test_error_is_never_compatible_and_exits_3() -> None:
    verdict = decide(BOTH, four(ORDERS, OK, ERR, OK))

    assert not verdict.allowed
    assert verdict.environment_failed
    assert verdict.exit_code == 3


def test_failure_today_is_a_note_not_a_reason() -> None:
    cells = four(ORDERS, OK, OK, OK)
    cells[0] = result(ORDERS, Pairing.TODAY, BAD, "v1", "v1")

    verdict = decide(BOTH, cells)

    assert verdict.allowed
    assert any("already fails today" in note for note in verdict.advice)


def test_constraints_across_edges_that_form_a_cycle_block() -> None:
    bumps = [*BOTH]
    back = Edge("inventory", "orders")
    cells = four(ORDERS, OK, BAD, OK) + four(back, OK, BAD, OK)

    verdict = decide(bumps, cells)

    assert not verdict.allowed
    assert any("cycle" in reason for reason in verdict.reasons)


def test_stages_group_independent_services() -> None:
    stages, cycle = rollout_stages(
        ["inventory", "orders", "notifier", "storefront"],
        [("inventory", "orders"), ("storefront", "notifier")],
    )

    assert stages == (("inventory", "storefront"), ("notifier", "orders"))
    assert cycle == []
