"""Matching rules: the rules of a response by path, and reading them from a file.

A Pact file declares them under ``matchingRules``: flat, keyed by a path such as
``$.body.items``, in V2; by category (``body``, ``header``, ``status``) in V3
and V4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from harness.contracts.pact.formats import regex, strptime_format
from harness.contracts.pact.paths import (
    DocPath,
    Part,
    Wildcard,
    parse_path,
    path_weight,
)
from harness.contracts.pact.values import Json

__all__ = [
    "NO_RULES",
    "STATUS_CLASSES",
    "ProblemLog",
    "Rule",
    "RuleList",
    "RuleReader",
    "RuleSet",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """One matching rule, e.g. ``{"match": "type", "min": 1}``.

    ``value`` holds the rule's parameter: the regular expression, the text to
    include, the date format, the content type or the expected status class.
    """

    kind: str
    value: Json = None
    min: int | None = None
    max: int | None = None
    rules: tuple[Rule, ...] = ()
    variants: tuple[tuple[int, RuleSet], ...] = ()


@dataclass(frozen=True, slots=True)
class RuleList:
    """The rules declared at one path, all of which must hold unless ``any_of``."""

    rules: tuple[Rule, ...]
    any_of: bool = False


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one part of a response, by path."""

    entries: tuple[tuple[tuple[Part, ...], RuleList], ...] = ()

    def select(self, path: DocPath) -> tuple[RuleList, bool] | None:
        """The rules that govern ``path``, and whether they cascade from above."""
        best: tuple[int, tuple[Part, ...], RuleList] | None = None
        for tokens, rules in self.entries:
            score = path_weight(tokens, path) * (len(tokens) + 1)
            if score and (best is None or score > best[0]):
                best = (score, tokens, rules)

        if best is None:
            return None
        return best[2], len(best[1]) != len(path)

    def covers_any_key(self, path: DocPath) -> bool:
        """Whether a ``$.map.*`` rule reaches every key of the map at ``path``.

        V3 compares every value of such a map, keys the example lacks too
        (spec version-3 test "additional property with type matcher").
        """
        return any(
            len(tokens) == len(path) + 1
            and tokens[-1] is Wildcard.ANY_KEY
            and path_weight(tokens[:-1], path) > 0
            for tokens, _ in self.entries
        )


NO_RULES = RuleSet()

_ALIASES = {"real": "decimal", "datetime": "timestamp", "min": "type", "max": "type"}
_MATCHERS = frozenset(
    {"arrayContains", "boolean", "contentType", "date", "decimal"}
    | {"eachKey", "eachValue", "equality", "include", "integer", "notEmpty", "null"}
    | {"number", "regex", "semver", "statusCode", "time", "timestamp", "type"}
    | {"values"}
)
# The status classes a statusCode matcher names, as ranges of codes.
STATUS_CLASSES = {
    "information": (100, 199),
    "success": (200, 299),
    "redirect": (300, 399),
    "clientError": (400, 499),
    "serverError": (500, 599),
    "nonError": (100, 399),
    "error": (400, 599),
}


class ProblemLog(Protocol):
    """Where the problems found while reading a Pact file are collected."""

    def problem(self, path: str, message: str, hint: str = ...) -> None:
        """Record what is wrong at the key path ``path``, and how to fix it."""


class RuleReader:
    """Reads the ``matchingRules`` of a response, V2 flat or V3/V4 by category."""

    def __init__(self, reader: ProblemLog, path: str) -> None:
        self.reader = reader
        self.path = path
        self.body: list[tuple[tuple[Part, ...], RuleList]] = []
        self.header: dict[str, RuleList] = {}
        self.status: RuleList | None = None

    def read(self, raw: Json) -> None:
        if raw is None:
            return
        if not isinstance(raw, dict):
            self.reader.problem(self.path, "matching rules are a JSON object")
        elif all(key.startswith("$") for key in raw):
            for key, rules in raw.items():
                self.v2(key, rules)
        else:
            self.v3(raw)

    def v2(self, key: str, raw: Json) -> None:
        where = f"{self.path}['{key}']"
        if key == "$.body" or key.startswith(("$.body.", "$.body[")):
            self.add_body("$" + key[len("$.body") :], self.rule_list(where, raw), where)
        elif key.startswith(("$.headers.", "$.header.")):
            self.header[key.split(".", 2)[2].lower()] = self.rule_list(where, raw)

    def v3(self, raw: Mapping[str, Json]) -> None:
        for category, entries in raw.items():
            where = f"{self.path}.{category}"
            if category == "status":
                self.status = self.status_rules(where, entries)
            elif category in ("body", "header", "headers") and isinstance(
                entries, dict
            ):
                for key, rules in entries.items():
                    self.add(category, key, self.rule_list(f"{where}['{key}']", rules))
            elif category in ("body", "header", "headers"):
                self.reader.problem(where, "rules are an object of paths to matchers")

    def add(self, category: str, key: str, rules: RuleList) -> None:
        if category == "body":
            self.add_body(key, rules, f"{self.path}.body['{key}']")
            return
        tokens = parse_path(key) if key.startswith("$") else (key,)
        if tokens and isinstance(tokens[0], str):
            self.header[tokens[0].lower()] = rules

    def add_body(self, key: str, rules: RuleList, where: str) -> None:
        tokens = parse_path(key)
        if tokens is None:
            self.reader.problem(where, f"{key!r} is not a path like $.items[*].id")
            return
        self.body.append((tokens, rules))

    def status_rules(self, where: str, raw: Json) -> RuleList | None:
        if isinstance(raw, dict) and "matchers" not in raw:
            raw = next(iter(raw.values()), None)
        return self.rule_list(where, raw) if raw is not None else None

    def rule_list(self, where: str, raw: Json) -> RuleList:
        if isinstance(raw, dict) and "matchers" in raw:
            combine = str(raw.get("combine", "AND")).upper()
            matchers = raw["matchers"]
            items = matchers if isinstance(matchers, list) else [matchers]
            where = f"{where}.matchers"
        else:
            combine, items = "AND", raw if isinstance(raw, list) else [raw]

        rules = (self.rule(f"{where}[{i}]", item) for i, item in enumerate(items))
        return RuleList(tuple(r for r in rules if r is not None), combine == "OR")

    def rule(self, where: str, raw: Json) -> Rule | None:
        if not isinstance(raw, dict):
            self.reader.problem(where, "a matcher is a JSON object")
            return None

        kind = raw.get("match") or _implied_kind(raw)
        if not isinstance(kind, str):
            self.reader.problem(where, "the matcher has no 'match' name")
            return None

        kind = _ALIASES.get(kind, kind)
        if kind not in _MATCHERS:
            known = ", ".join(sorted(_MATCHERS))
            self.reader.problem(where, f"unknown matcher {kind!r}", f"known: {known}")
            return None
        return self.parameters(where, kind, raw)

    def parameters(self, where: str, kind: str, raw: Mapping[str, Json]) -> Rule | None:
        try:
            return self.parameterised(kind, raw)
        except (AttributeError, KeyError, TypeError, ValueError, re.error) as error:
            detail = error.args[0] if error.args else error
            self.reader.problem(where, f"invalid {kind} matcher: {detail}")
            return None

    def parameterised(self, kind: str, raw: Mapping[str, Json]) -> Rule:
        if kind == "type":
            return Rule(kind, min=_count(raw.get("min")), max=_count(raw.get("max")))
        if kind == "regex":
            return Rule(kind, regex(str(raw["regex"])).pattern)
        if kind in ("include", "contentType"):
            return Rule(kind, str(raw["value"]))
        if kind in ("date", "time", "timestamp"):
            return Rule(kind, _date_format(kind, raw))
        if kind == "statusCode":
            return Rule(kind, _status_class(raw.get("status", "success")))
        if kind in ("eachKey", "eachValue"):
            nested = self.rule_list(f"{self.path}.{kind}", raw.get("rules") or [])
            return Rule(kind, rules=nested.rules)
        if kind == "arrayContains":
            return Rule(kind, variants=self.variants(raw["variants"]))
        return Rule(kind)

    def variants(self, raw: Json) -> tuple[tuple[int, RuleSet], ...]:
        found = []
        for variant in raw:
            nested = RuleReader(self.reader, f"{self.path}.variants")
            for key, rules in (variant.get("rules") or {}).items():
                nested.add_body(key, nested.rule_list(key, rules), nested.path)

            body = nested.body or [((), RuleList((Rule("equality"),)))]
            found.append((int(variant.get("index", 0)), RuleSet(tuple(body))))
        return tuple(found)


def _implied_kind(raw: Mapping[str, Json]) -> str | None:
    # V2 rules may leave out "match": {"regex": ...} or {"min": 1}.
    for key in ("regex", "timestamp", "date", "time"):
        if key in raw:
            return key
    return "type" if "min" in raw or "max" in raw else None


def _count(value: Json) -> int | None:
    return None if value is None else int(value)


def _date_format(kind: str, raw: Mapping[str, Json]) -> str | None:
    pattern = raw.get("format") or raw.get(kind) or raw.get("datetime")
    if not pattern:
        return None
    strptime_format(str(pattern))
    return str(pattern)


def _status_class(status: Json) -> Json:
    if isinstance(status, list):
        return tuple(int(code) for code in status)
    if status not in STATUS_CLASSES:
        known = ", ".join(STATUS_CLASSES)
        raise ValueError(f"status {status!r} is not one of {known}")
    return status
