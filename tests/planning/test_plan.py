"""Which cells a change creates, and which instances they share."""

from __future__ import annotations

import pytest

from harness.core.errors import ConfigError
from harness.core.model import CheckKind, Pairing
from harness.core.system import System
from harness.planning import plan_change


def cell_ids(plan_cells: object) -> dict[str, Pairing]:
    return {p.cell.id: p.cell.pairing for p in plan_cells}  # type: ignore[attr-defined]


def test_provider_bump_gives_control_and_provider_ahead(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v2"})

    assert [str(b) for b in plan.bumps] == ["inventory v1 -> v2"]
    assert cell_ids(plan.cells) == {
        "orders@v1->inventory@v1": Pairing.TODAY,
        "orders@v1->inventory@v2": Pairing.PROVIDER_AHEAD,
    }
    assert sorted(spec.name for spec in plan.instances) == [
        "inventory@v1",
        "inventory@v2",
    ]


def test_both_sides_bumped_give_all_four_pairs(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v2", "orders": "v2"})

    orders_cells = {
        cell: pairing
        for cell, pairing in cell_ids(plan.cells).items()
        if cell.endswith(("inventory@v1", "inventory@v2"))
    }
    assert orders_cells == {
        "orders@v1->inventory@v1": Pairing.TODAY,
        "orders@v1->inventory@v2": Pairing.PROVIDER_AHEAD,
        "orders@v2->inventory@v1": Pairing.CONSUMER_AHEAD,
        "orders@v2->inventory@v2": Pairing.AFTER,
    }


def test_provider_instances_are_wired_within_their_generation(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v2", "orders": "v2"})

    names = {spec.name for spec in plan.instances}
    assert "orders@v2[inventory@v2]" in names
    assert "orders@v1[inventory@v1]" in names
    assert "orders@v2[inventory@v1]" not in names


def test_each_instance_appears_once_and_providers_come_first(shop: System) -> None:
    plan = plan_change(shop, dict.fromkeys(shop.services, "v2"))

    keys = [spec.key for spec in plan.instances]
    assert len(keys) == len(set(keys))
    for index, spec in enumerate(plan.instances):
        for wire in spec.wires:
            assert wire.provider in keys[:index]


def test_untouched_edges_get_no_cells(shop: System) -> None:
    plan = plan_change(shop, {"notifier": "v2"})

    assert {p.cell.edge.provider for p in plan.cells} == {"notifier"}


def test_candidate_equal_to_baseline_is_no_bump(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v1"})

    assert plan.is_empty
    assert plan.cells == ()


def test_baseline_override(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v3"}, {"inventory": "v2"})

    assert "orders@v1->inventory@v2" in cell_ids(plan.cells)
    assert "orders@v1->inventory@v3" in cell_ids(plan.cells)


def test_unknown_candidate_version_is_bad_input(shop: System) -> None:
    with pytest.raises(ConfigError, match="'inventory' has no version 'v9'"):
        plan_change(shop, {"inventory": "v9"})


def test_consumer_instance_is_wired_to_the_cells_provider(shop: System) -> None:
    plan = plan_change(shop, {"inventory": "v2", "orders": "v2"})
    cell = next(p for p in plan.cells if p.cell.id == "orders@v2->inventory@v1")

    specs = plan.consumer_instance(cell.cell)

    assert [spec.name for spec in specs] == [
        "inventory@v1",
        "orders@v2[inventory@v1]",
    ]
    assert specs[-1].wires[0].provider == cell.provider_instance


def test_consumer_instance_wires_its_other_providers_within_its_generation(
    shop: System,
) -> None:
    plan = plan_change(shop, dict.fromkeys(shop.services, "v2"))
    cell = next(p.cell for p in plan.cells if p.cell.id == "storefront@v2->orders@v1")

    consumer = plan.consumer_instance(cell)[-1]

    assert consumer.name == "storefront@v2[orders@v1[inventory@v1],notifier@v2]"


def test_only_keeps_the_selected_checks_and_the_instances_they_need(
    shop: System,
) -> None:
    plan = plan_change(shop, {"inventory": "v2", "orders": "v2"})
    cells = {p.cell.id: p.cell for p in plan.cells}

    selected = plan.only(
        {
            (cells["orders@v2->inventory@v2"], CheckKind.PACT),
            (cells["orders@v1->inventory@v1"], CheckKind.SPEC_DIFF),
        }
    )

    assert {(p.cell.id, p.checks) for p in selected.cells} == {
        ("orders@v2->inventory@v2", (CheckKind.PACT,)),
        ("orders@v1->inventory@v1", (CheckKind.SPEC_DIFF,)),
    }
    assert [spec.name for spec in selected.instances] == ["inventory@v2"]
    assert selected.bumps == plan.bumps
