"""Comparing a provider's response with the one an interaction expects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.contracts.pact.documents import (
    ExpectedResponse,
    HttpInteraction,
    header_values,
)
from harness.contracts.pact.matchers import (
    unmet_expectation,
    unmet_expectations,
    unmet_rules,
)
from harness.contracts.pact.paths import DocPath, Part, Wildcard, format_path
from harness.contracts.pact.rules import STATUS_CLASSES, Rule, RuleList, RuleSet
from harness.contracts.pact.values import Json, as_text, item_count, json_equal, show

__all__ = ["ActualResponse", "Mismatch", "match_response"]


@dataclass(frozen=True, slots=True)
class ActualResponse:
    """What the provider answered; header names in any case."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One way a response differs from the pact, e.g. ``$.stock: ... missing``."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def match_response(
    interaction: HttpInteraction, actual: ActualResponse
) -> tuple[Mismatch, ...]:
    """Every way ``actual`` differs from what the interaction expects.

    Headers and keys the consumer does not name are allowed; what it names
    must be there and match.
    """
    expected = interaction.response
    return (
        *_match_status(expected, actual.status),
        *_match_headers(expected, actual.headers),
        *_match_body(expected, actual),
    )


def _match_status(expected: ExpectedResponse, status: int) -> list[Mismatch]:
    rules = expected.status_rules
    if rules is None or not rules.rules:
        if status == expected.status:
            return []
        return [Mismatch("status", f"expected {expected.status}, got {status}")]

    unmet = unmet_rules(
        rules.rules, rules.any_of, lambda rule: _check_status(rule, status)
    )
    if not unmet:
        return []
    return [Mismatch("status", f"expected {' or '.join(unmet)}, got {status}")]


def _check_status(rule: Rule, status: int) -> str | None:
    if rule.kind != "statusCode":
        return unmet_expectation(rule, status, status, cascaded=False)
    if isinstance(rule.value, tuple):
        codes = ", ".join(str(code) for code in rule.value)
        return None if status in rule.value else f"one of {codes}"
    low, high = STATUS_CLASSES[rule.value]
    return None if low <= status <= high else f"a {rule.value} status ({low}-{high})"


def _match_headers(
    expected: ExpectedResponse, actual: Mapping[str, str]
) -> list[Mismatch]:
    received = {name.lower(): value for name, value in actual.items()}

    found: list[Mismatch] = []
    for name, values in expected.headers:
        location = f"header '{name}'"
        value = received.get(name.lower())
        if value is None:
            found.append(Mismatch(location, "expected header is missing"))
            continue

        rules = expected.header_rules.get(name.lower())
        found += [
            Mismatch(location, problem)
            for problem in _header_problems(name, values, value, rules)
        ]
    return found


def _header_problems(
    name: str, expected: tuple[str, ...], value: str, rules: RuleList | None
) -> list[str]:
    actual = header_values(name, [value])
    expected = expected or ("",)

    if rules is not None and rules.rules:
        if len(expected) == 1 and len(actual) == 1:
            actual = (value.strip(),)
        pairs = [(expected[min(i, len(expected) - 1)], a) for i, a in enumerate(actual)]
        unmet = [
            f"expected {problem}, got '{a}'"
            for e, a in pairs
            for problem in unmet_expectations(rules, e, a, cascaded=False)
        ]
        return unmet[:1]

    if len(expected) == len(actual) and all(
        _header_value_matches(name, e, a) for e, a in zip(expected, actual, strict=True)
    ):
        return []
    return [f"expected '{', '.join(expected)}', got '{value}'"]


def _header_value_matches(name: str, expected: str, actual: str) -> bool:
    # Content-Type and Accept carry parameters: those the pact names must be
    # there, others may be added (a charset, typically).
    if name.lower() not in ("content-type", "accept"):
        return expected == actual
    expected_type, expected_params = _media_type(expected)
    actual_type, actual_params = _media_type(actual)
    return expected_type == actual_type and all(
        actual_params.get(key) == param for key, param in expected_params.items()
    )


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    media, *parameters = (part.strip() for part in value.split(";"))
    pairs = (p.partition("=") for p in parameters if "=" in p)
    return media.lower(), {
        k.strip().lower(): v.strip(' "').lower() for k, _, v in pairs
    }


def _match_body(expected: ExpectedResponse, actual: ActualResponse) -> list[Mismatch]:
    body = expected.body
    if body is None or expected.unverified_body:
        return []
    if body.content is None:
        if actual.body.strip() in (b"", b"null"):
            return []
        return [Mismatch("body", f"expected no body, got {show(as_text(actual.body))}")]

    if body.is_json:
        return _match_json_body(expected, body.content, actual.body)

    received: Json = actual.body
    if isinstance(body.content, str):
        received = as_text(actual.body)
    return _Comparison(expected.body_rules).compare((), body.content, received)


def _match_json_body(
    expected: ExpectedResponse, content: Json, data: bytes
) -> list[Mismatch]:
    try:
        received = json.loads(data)
    except ValueError:
        shown = show(as_text(data)) if data.strip() else "an empty body"
        return [Mismatch("$", f"expected a JSON body, got {shown}")]
    return _Comparison(expected.body_rules).compare((), content, received)


class _Comparison:
    """Compares an expected JSON value with an actual one under a rule set."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def compare(self, path: DocPath, expected: Json, actual: Json) -> list[Mismatch]:
        if isinstance(expected, dict) and not isinstance(actual, dict):
            return [self.mismatch(path, "an object", actual)]
        if isinstance(expected, list) and not isinstance(actual, list):
            return [self.mismatch(path, "an array", actual)]
        if isinstance(expected, dict):
            return self.compare_objects(path, expected, actual)
        if isinstance(expected, list):
            return self.compare_arrays(path, expected, actual)
        return self.compare_values(path, expected, actual)

    @staticmethod
    def mismatch(path: DocPath, expectation: str, actual: Json) -> Mismatch:
        return Mismatch(
            format_path(path), f"expected {expectation}, got {show(actual)}"
        )

    def declared(self, path: DocPath) -> tuple[RuleList, bool]:
        return self.rules.select(path) or (RuleList(()), False)

    def compare_values(
        self, path: DocPath, expected: Json, actual: Json
    ) -> list[Mismatch]:
        rules, cascaded = self.declared(path)
        if not rules.rules:
            if json_equal(expected, actual):
                return []
            return [self.mismatch(path, show(expected), actual)]
        return self.unmet(path, rules, cascaded, expected, actual)

    def unmet(
        self,
        path: DocPath,
        rules: RuleList,
        cascaded: bool,
        expected: Json,
        actual: Json,
    ) -> list[Mismatch]:
        return [
            self.mismatch(path, problem, actual)
            for problem in unmet_expectations(rules, expected, actual, cascaded)
        ]

    def compare_objects(
        self, path: DocPath, expected: dict[str, Json], actual: dict[str, Json]
    ) -> list[Mismatch]:
        rules, cascaded = self.declared(path)
        found = self.unmet(path, rules, cascaded, expected, actual)

        direct = _declared_here(rules, cascaded)
        if "eachKey" in direct:
            found += self.check_keys(path, direct["eachKey"], actual)

        each_value = direct.get("eachValue") or direct.get("values")
        if each_value is None and self.rules.covers_any_key(path):
            each_value = Rule("values")
        if each_value is not None:
            return found + self.compare_each_value(path, each_value, expected, actual)

        if "eachKey" not in direct:
            found += [
                Mismatch(format_path((*path, key)), "expected key is missing")
                for key in expected
                if key not in actual
            ]

        for key, value in expected.items():
            if key in actual:
                found += self.compare((*path, key), value, actual[key])
        return found

    def check_keys(
        self, path: DocPath, rule: Rule, actual: dict[str, Json]
    ) -> list[Mismatch]:
        keys = RuleList(rule.rules)
        return [
            Mismatch(format_path(path), f"key '{key}' is not {problem}")
            for key in actual
            for problem in unmet_expectations(keys, key, key, cascaded=False)
        ]

    def compare_each_value(
        self,
        path: DocPath,
        rule: Rule,
        expected: dict[str, Json],
        actual: dict[str, Json],
    ) -> list[Mismatch]:
        # Every value is compared with the example of the same key, or the
        # first example; eachValue's own rules replace all others below.
        if not expected:
            return []

        comparison = self.for_each_value(path, rule)
        first = next(iter(expected.values()))
        found: list[Mismatch] = []
        for key, value in actual.items():
            found += comparison.compare((*path, key), expected.get(key, first), value)
        return found

    def for_each_value(self, path: DocPath, rule: Rule) -> _Comparison:
        if rule.kind != "eachValue":
            return self
        below: tuple[Part, ...] = (*path, Wildcard.ANY_KEY)
        return _Comparison(RuleSet(((below, RuleList(rule.rules)),)))

    def compare_arrays(
        self, path: DocPath, expected: list[Json], actual: list[Json]
    ) -> list[Mismatch]:
        rules, cascaded = self.declared(path)
        if not rules.rules:
            return self.compare_exact_arrays(path, expected, actual)
        if not expected:
            return []

        found = self.unmet(path, rules, cascaded, expected, actual)
        direct = _declared_here(rules, cascaded)
        if "arrayContains" in direct:
            return found + self.find_variants(
                path, direct["arrayContains"], expected, actual
            )

        each_value = direct.get("eachValue")
        comparison = self.for_each_value(path, each_value) if each_value else self
        return found + comparison.compare_items(path, expected, actual)

    def compare_exact_arrays(
        self, path: DocPath, expected: list[Json], actual: list[Json]
    ) -> list[Mismatch]:
        found: list[Mismatch] = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found += self.compare((*path, index), e, a)

        if len(expected) != len(actual):
            found.append(self.mismatch(path, item_count(len(expected)), len(actual)))
        return found

    def compare_items(
        self, path: DocPath, expected: list[Json], actual: list[Json]
    ) -> list[Mismatch]:
        # Items beyond the examples are compared with the first example.
        found: list[Mismatch] = []
        for index, item in enumerate(actual):
            example = expected[index] if index < len(expected) else expected[0]
            found += self.compare((*path, index), example, item)

        missing = [
            index
            for index in range(len(actual), len(expected))
            if self.rules.select((*path, index)) is None
        ]
        if missing:
            found.append(self.mismatch(path, item_count(len(expected)), len(actual)))
        return found

    def find_variants(
        self, path: DocPath, rule: Rule, expected: list[Json], actual: list[Json]
    ) -> list[Mismatch]:
        found = []
        for index, rules in rule.variants:
            if index >= len(expected):
                found.append(
                    Mismatch(format_path(path), f"variant {index} has no example")
                )
                continue

            variant = _Comparison(rules)
            if not any(
                not variant.compare((), expected[index], item) for item in actual
            ):
                expectation = f"an item like {show(expected[index])}"
                found.append(self.mismatch(path, expectation, actual))
        return found


def _declared_here(rules: RuleList, cascaded: bool) -> dict[str, Rule]:
    """The rules declared at the path itself, by kind; none when they cascade."""
    return {rule.kind: rule for rule in rules.rules} if not cascaded else {}
