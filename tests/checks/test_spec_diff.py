"""The spec-diff check on cells of a system described in memory."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from harness.checks.base import CheckContext
from harness.checks.spec_diff import CHECK
from harness.core.errors import ContractError
from harness.core.model import Cell, CheckKind, Edge, Level, Outcome, Pairing
from harness.core.system import Consumption, EdgeSpec, ServiceSpec, System, VersionSpec

FIXTURES = Path(__file__).parent.parent / "contracts/openapi/fixtures"
ITEMS_V1 = FIXTURES / "split/v1/api.yaml"
ITEMS_V2 = FIXTURES / "split/v2/api.yaml"


def context(
    provides: Mapping[str, Path | None],
    provider_version: str,
    built_against: str | None = None,
) -> CheckContext:
    """orders@v1 calling inventory at ``provider_version``."""
    inventory = ServiceSpec(
        "inventory",
        baseline="v1",
        versions={v: VersionSpec(v, provides=p) for v, p in provides.items()},
    )
    consumes = {"inventory": Consumption("inventory", built_against=built_against)}
    orders = ServiceSpec("orders", "v1", {"v1": VersionSpec("v1", consumes=consumes)})
    edge = EdgeSpec(Edge("orders", "inventory"), "INVENTORY_URL")
    system = System(
        "shop",
        Path("/nowhere/rollout.yaml"),
        {"inventory": inventory, "orders": orders},
        (edge,),
    )
    cell = Cell(edge.edge, "v1", provider_version, Pairing.PROVIDER_AHEAD)
    return CheckContext(system, cell, edge)


def test_a_breaking_provider_makes_the_cell_incompatible() -> None:
    result = CHECK.run(context({"v1": ITEMS_V1, "v2": ITEMS_V2}, "v2"))

    assert result.kind is CheckKind.SPEC_DIFF
    assert result.outcome is Outcome.INCOMPATIBLE
    [finding] = result.findings
    assert finding.rule == "response-required-property-removed"
    assert finding.level is Level.ERROR
    assert finding.location == "GET /items/{id}"
    assert finding.message.startswith("response 200 (application/json): required")


def test_the_consumer_is_compared_with_what_it_was_built_against() -> None:
    provides = {"v1": ITEMS_V2, "v2": ITEMS_V1, "v3": ITEMS_V2}

    built_on_v2 = CHECK.run(context(provides, "v3", built_against="v2"))
    built_on_baseline = CHECK.run(context(provides, "v3"))

    assert built_on_v2.outcome is Outcome.INCOMPATIBLE
    assert built_on_baseline.outcome is Outcome.COMPATIBLE
    assert built_on_baseline.findings == ()


def test_a_provider_that_only_adds_is_compatible() -> None:
    result = CHECK.run(context({"v1": ITEMS_V2, "v2": ITEMS_V1}, "v2"))

    assert result.outcome is Outcome.COMPATIBLE
    assert result.findings == ()


def test_same_document_is_compatible() -> None:
    result = CHECK.run(context({"v1": ITEMS_V1, "v2": ITEMS_V1}, "v2"))

    assert result.outcome is Outcome.COMPATIBLE
    assert result.findings == ()
    assert "same contract" in result.summary


def test_same_content_elsewhere_is_compatible(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ITEMS_V1.parent, copy)

    result = CHECK.run(context({"v1": ITEMS_V1, "v2": copy / "api.yaml"}, "v2"))

    assert result.outcome is Outcome.COMPATIBLE
    assert "same content" in result.summary


@pytest.mark.parametrize(
    ("provides", "reason"),
    [
        ({"v1": None, "v2": ITEMS_V2}, "orders@v1 was built against inventory@v1"),
        ({"v1": ITEMS_V1, "v2": None}, "inventory@v2 has no contract"),
    ],
    ids=["expected-contract-missing", "provided-contract-missing"],
)
def test_a_missing_document_skips_the_check(
    provides: dict[str, Path | None], reason: str
) -> None:
    result = CHECK.run(context(provides, "v2"))

    assert result.outcome is Outcome.SKIPPED
    assert reason in result.summary


def test_preflight_refuses_a_broken_contract(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(ITEMS_V1.read_text().replace("schemas/item.yaml#/Item", "#/nope"))

    with pytest.raises(ContractError) as error:
        CHECK.preflight(context({"v1": ITEMS_V1, "v2": broken}, "v2"))

    assert error.value.problems[0].path.endswith("/$ref")


def test_preflight_accepts_good_contracts() -> None:
    CHECK.preflight(context({"v1": ITEMS_V1, "v2": ITEMS_V2}, "v2"))
