"""What a diff reports besides rule ids: levels, directions, locations, results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.contracts.openapi import Change, DiffResult, Direction, diff_files
from harness.core.model import Level

Writer = Callable[[str, Mapping[str, Any]], Path]


def _body(required: list[str], **properties: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": required,
        "properties": {name: {"type": t} for name, t in properties.items()},
    }
    return {
        "openapi": "3.0.3",
        "paths": {
            "/orders": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": schema}}
                    },
                    "responses": {"201": {"description": "created"}},
                }
            }
        },
    }


def _secured(*alternatives: dict[str, list[str]]) -> dict[str, Any]:
    operation = {"security": list(alternatives), "responses": {}}
    return {"openapi": "3.0.3", "paths": {"/a": {"get": operation}}}


def _levels(result: DiffResult, direction: Direction) -> dict[str, Level]:
    return {c.rule: c.level for c in result.changes if c.direction is direction}


def test_forward_swaps_the_documents_but_not_the_pointers(write: Writer) -> None:
    base = write("base.yaml", _body(["a"], a="string"))
    revision = write("revision.yaml", _body(["a", "b"], a="string", b="string"))

    result = diff_files(base, revision, Direction.BOTH)

    backward, forward = sorted(result.changes, key=lambda c: c.direction.value)
    schema = "#/paths/~1orders/post/requestBody/content/application~1json/schema"
    assert (backward.rule, backward.direction) == (
        "new-required-request-property",
        Direction.BACKWARD,
    )
    assert (forward.rule, forward.direction) == (
        "request-property-removed",
        Direction.FORWARD,
    )
    for change in (backward, forward):
        assert change.base == schema
        assert change.revision == schema + "/properties/b"
        assert change.operation == "POST /orders"


def test_security_levels_follow_who_still_gets_in(write: Writer) -> None:
    one = write("one.yaml", _secured({"key": []}))
    two = write("two.yaml", _secured({"key": []}, {"bearer": []}))

    result = diff_files(one, two, Direction.BOTH)

    assert _levels(result, Direction.BACKWARD) == {"api-security-added": Level.INFO}
    assert _levels(result, Direction.FORWARD) == {"api-security-removed": Level.ERROR}


def test_a_scope_more_keeps_out_old_tokens(write: Writer) -> None:
    read = write("read.yaml", _secured({"oauth": ["read"]}))
    write_scope = write("write.yaml", _secured({"oauth": ["read", "write"]}))

    [change] = diff_files(read, write_scope).changes

    assert change.level is Level.ERROR
    assert change.message == "oauth needs the scope 'write' now"


def test_result_counts_orders_and_thresholds(write: Writer) -> None:
    base = write("base.yaml", _body(["a"], a="string", c="string"))
    revision = write("revision.yaml", _body(["a", "b"], a="integer", b="string"))

    result = diff_files(base, revision)

    assert result.counts() == {Level.ERROR: 2, Level.WARNING: 1, Level.INFO: 0}
    assert [c.level for c in result.ordered()] == [
        Level.ERROR,
        Level.ERROR,
        Level.WARNING,
    ]
    assert len(result.reaching(Level.ERROR)) == 2
    assert len(result.reaching(Level.WARNING)) == 3


def test_a_change_becomes_a_finding() -> None:
    change = Change(
        rule="response-required-property-removed",
        level=Level.ERROR,
        operation="GET /items/{sku}",
        message="response 200 (application/json): required property `Item.stock` "
        "was removed",
        base="#/components/schemas/Item/properties/stock",
        revision="#/components/schemas/Item",
        direction=Direction.BACKWARD,
    )

    finding = change.to_finding()

    assert finding.rule == change.rule
    assert finding.level is Level.ERROR
    assert finding.location == "GET /items/{sku}"
    assert finding.message == change.message
    assert finding.detail == (
        "base #/components/schemas/Item/properties/stock, "
        "revision #/components/schemas/Item "
        "(backward: clients built against BASE, server at REVISION)"
    )


def test_the_same_diff_is_computed_once(write: Writer) -> None:
    base = write("base.yaml", _body(["a"], a="string"))
    revision = write("revision.yaml", _body([], a="string"))

    first = diff_files(base, revision)
    second = diff_files(base, revision)

    assert first.changes[0] is second.changes[0]
