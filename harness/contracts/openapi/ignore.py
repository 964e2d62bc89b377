"""Changes a team has accepted, listed with a reason each.

An ignore file is a YAML (or JSON) list; each entry accepts the changes of one
rule, on one operation or on all of them::

    - rule: response-optional-property-removed
      operation: GET /items/{sku}
      reason: nobody ever read `legacy_code`; agreed with the storefront team
    - rule: request-parameter-removed
      reason: unknown query parameters are ignored by every version we run
      direction: backward

``rule`` (required) is a rule id, as printed in every finding. ``operation``
(optional) is ``METHOD /path``; parameter names in the path do not have to match
(``/items/{id}`` also matches ``/items/{sku}``). Without it the entry matches
every operation and document-wide changes. ``reason`` (required) says why the
change is accepted, for the next reader. ``direction`` (optional, ``backward``
or ``forward``) limits the entry to one direction of ``--direction both``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.contracts.openapi.changes import Change, Direction
from harness.contracts.openapi.document import escape
from harness.contracts.openapi.operations import operation_key
from harness.contracts.openapi.rules import RULES
from harness.core.documents import read_yaml
from harness.core.errors import ConfigError, Problem

__all__ = ["IgnoreRule", "apply_ignores", "load_ignore_file"]

logger = logging.getLogger(__name__)

_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["rule", "reason"],
        "additionalProperties": False,
        "properties": {
            "rule": {"type": "string", "minLength": 1},
            "operation": {"type": "string", "pattern": r"^[A-Za-z]+ /"},
            "reason": {"type": "string", "minLength": 1},
            "direction": {"enum": ["backward", "forward"]},
        },
    },
}
_VALIDATOR = Draft202012Validator(_SCHEMA)


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One accepted change: a rule, optionally on one operation and direction."""

    rule: str
    reason: str
    operation: str | None = None
    direction: Direction | None = None

    def matches(self, change: Change) -> bool:
        """Whether this entry accepts ``change``."""
        if change.rule != self.rule:
            return False
        if self.direction is not None and change.direction is not self.direction:
            return False
        return self.operation is None or _same_operation(self.operation, change)


def apply_ignores(
    changes: Sequence[Change], rules: Sequence[IgnoreRule]
) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    """Split ``changes`` into those kept and those an entry of ``rules`` accepts."""
    kept: list[Change] = []
    ignored: list[Change] = []
    for change in changes:
        accepted = any(rule.matches(change) for rule in rules)
        (ignored if accepted else kept).append(change)
    return tuple(kept), tuple(ignored)


def load_ignore_file(path: str | Path) -> tuple[IgnoreRule, ...]:
    """Read an ignore file (format in this module's docstring).

    Raises :class:`ConfigError` naming the entry and field of every mistake.
    """
    source = Path(path)
    raw = _read(source)
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: list(map(str, e.path)))
    if errors:
        raise ConfigError(
            [_problem(source, error.path, error.message) for error in errors]
        )

    rules = tuple(_entry(item) for item in raw or ())
    for rule in rules:
        if rule.rule not in RULES:
            logger.warning(
                "%s: rule %r is not a rule rollout applies; the entry matches nothing",
                source,
                rule.rule,
            )
    return rules


def _read(source: Path) -> Any:
    raw = read_yaml(
        source, ConfigError, "the ignore file", hint="check the path given to --ignore"
    )
    return [] if raw is None else raw


def _problem(source: Path, path: Sequence[Any], message: str) -> Problem:
    pointer = "#" + "".join("/" + escape(p) for p in path)
    return Problem(
        str(source),
        pointer,
        message,
        hint="each entry needs `rule` and `reason`; `operation` looks like "
        "'GET /items/{sku}'",
    )


def _entry(item: dict[str, Any]) -> IgnoreRule:
    direction = item.get("direction")
    return IgnoreRule(
        rule=item["rule"],
        reason=item["reason"],
        operation=item.get("operation"),
        direction=Direction(direction) if direction else None,
    )


def _same_operation(written: str, change: Change) -> bool:
    if not change.operation:
        return False
    method, _, path = written.strip().partition(" ")
    other_method, _, other_path = change.operation.partition(" ")
    return operation_key(method, path.strip()) == operation_key(
        other_method, other_path
    )
