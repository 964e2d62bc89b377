"""What each matcher accepts: checking one value against the rules at its path."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence

from harness.contracts.pact.formats import regex, strptime_format
from harness.contracts.pact.rules import Rule, RuleList
from harness.contracts.pact.values import (
    KIND_NAMES,
    Json,
    as_text,
    item_count,
    json_equal,
    json_kind,
    show,
)

__all__ = ["unmet_expectation", "unmet_expectations", "unmet_rules"]


# Rules that describe the shape at their own path and say nothing about the
# values below it (reference implementation: MatchingRule::can_cascade).
_NON_CASCADING = frozenset({"values", "eachKey", "eachValue", "arrayContains"})

_ISO_PARSERS: dict[str, Callable[[str], object]] = {
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "timestamp": dt.datetime.fromisoformat,
}
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)


def _is_date(rule: Rule, text: str) -> bool:
    try:
        if rule.value:
            dt.datetime.strptime(text, strptime_format(rule.value))
        else:
            _ISO_PARSERS[rule.kind](text)
    except ValueError:
        return False
    return True


def _sniff(data: bytes) -> str:
    """The content type of a body by its first bytes, as Pact's matcher does."""
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media

    try:
        text = data.decode("utf-8").lstrip()
    except UnicodeDecodeError:
        return "application/octet-stream"

    if text.startswith("<"):
        return (
            "text/html"
            if text[:15].lower().startswith(("<!doctype", "<html"))
            else "application/xml"
        )

    try:
        json.loads(text)
    except ValueError:
        return "text/plain"
    return "application/json"


def _check_pattern(rule: Rule, actual: Json) -> str | None:
    """The expectation of a rule that reads the value as text, when unmet."""
    text = as_text(actual)

    if rule.kind == "regex":
        return (
            None
            if regex(rule.value).fullmatch(text)
            else f"a value matching regex '{rule.value}'"
        )
    if rule.kind == "include":
        return None if rule.value in text else f"a value including '{rule.value}'"
    if rule.kind == "contentType":
        data = actual if isinstance(actual, bytes) else text.encode()
        return (
            None
            if _sniff(data) == rule.value.split(";")[0].strip()
            else f"content of type '{rule.value}'"
        )
    if isinstance(actual, str) and _is_date(rule, actual):
        return None

    described = f'in the format "{rule.value}"' if rule.value else "in ISO 8601 form"
    return f"a {'date and time' if rule.kind == 'timestamp' else rule.kind} {described}"


_SIMPLE_CHECKS: dict[str, tuple[Callable[[Json], bool], str]] = {
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "decimal": (lambda v: isinstance(v, float), "a decimal number"),
    "number": (lambda v: json_kind(v) == "number", "a number"),
    "boolean": (lambda v: isinstance(v, bool) or v in ("true", "false"), "a boolean"),
    "null": (lambda v: v is None, "null"),
    "notEmpty": (
        lambda v: v is not None and v not in ("", b"", [], {}),
        "a non-empty value",
    ),
    "semver": (
        lambda v: isinstance(v, str) and bool(_SEMVER.fullmatch(v)),
        "a semantic version",
    ),
}
_PATTERN_KINDS = frozenset(
    {"regex", "include", "contentType", "date", "time", "timestamp"}
)


def unmet_expectation(
    rule: Rule, expected: Json, actual: Json, cascaded: bool
) -> str | None:
    """What ``rule`` expects of ``actual`` when that is not met, else ``None``."""
    container = isinstance(actual, dict | list)

    if rule.kind == "type":
        return _check_type(rule, expected, actual, cascaded)
    if rule.kind == "equality" or (rule.kind == "values" and not container):
        return None if json_equal(expected, actual) else show(expected)
    if rule.kind in _SIMPLE_CHECKS:
        accepts, expectation = _SIMPLE_CHECKS[rule.kind]
        applies = not container or rule.kind in ("null", "notEmpty")
        return expectation if applies and not accepts(actual) else None
    if rule.kind in _PATTERN_KINDS and not container:
        return _check_pattern(rule, actual)
    return None


def _check_type(rule: Rule, expected: Json, actual: Json, cascaded: bool) -> str | None:
    if json_kind(expected) != json_kind(actual):
        return f"{KIND_NAMES[json_kind(expected)]} (like {show(expected)})"
    if cascaded or not isinstance(actual, dict | list):
        return None
    if rule.min is not None and len(actual) < rule.min:
        return f"at least {item_count(rule.min)}"
    if rule.max is not None and len(actual) > rule.max:
        return f"at most {item_count(rule.max)}"
    return None


def unmet_expectations(
    rules: RuleList, expected: Json, actual: Json, cascaded: bool
) -> list[str]:
    """The unmet expectations of a rule list: all of them, or one alternative."""
    applicable = [
        rule for rule in rules.rules if not (cascaded and rule.kind in _NON_CASCADING)
    ]

    unmet = unmet_rules(
        applicable,
        rules.any_of,
        lambda rule: unmet_expectation(rule, expected, actual, cascaded),
    )

    return [" or ".join(unmet)] if rules.any_of and unmet else unmet


def unmet_rules(
    rules: Sequence[Rule], any_of: bool, unmet_by: Callable[[Rule], str | None]
) -> list[str]:
    """The unmet expectations of ``rules``; none when ``any_of`` and one rule held."""
    unmet = [found for rule in rules if (found := unmet_by(rule)) is not None]
    return [] if any_of and len(unmet) < len(rules) else unmet
