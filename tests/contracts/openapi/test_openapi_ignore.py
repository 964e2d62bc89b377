"""Ignore files: accepted changes stay reported apart and stop failing the diff."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harness.contracts.openapi import (
    Direction,
    IgnoreRule,
    diff_files,
    load_ignore_file,
)
from harness.core.errors import ConfigError
from harness.core.model import Level

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "split/v1/api.yaml"
REVISION = FIXTURES / "split/v2/api.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ignore.yaml"
    path.write_text(text)
    return path


def test_entries_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- rule: response-required-property-removed\n"
        "  operation: GET /items/{sku}\n"
        "  reason: nobody reads the name\n"
        "- rule: request-parameter-removed\n"
        "  reason: extra query parameters are ignored\n"
        "  direction: forward\n",
    )

    assert load_ignore_file(path) == (
        IgnoreRule(
            "response-required-property-removed",
            "nobody reads the name",
            "GET /items/{sku}",
        ),
        IgnoreRule(
            "request-parameter-removed",
            "extra query parameters are ignored",
            direction=Direction.FORWARD,
        ),
    )


def test_an_empty_file_ignores_nothing(tmp_path: Path) -> None:
    assert load_ignore_file(write(tmp_path, "")) == ()


@pytest.mark.parametrize(
    ("operation", "ignored"),
    [
        ("GET /items/{sku}", True),
        ("get /items/{id}", True),
        ("GET /items", False),
        ("POST /items/{id}", False),
        (None, True),
    ],
    ids=["renamed-parameter", "same-template", "other-path", "other-method", "any"],
)
def test_ignored_changes_are_set_apart(operation: str | None, ignored: bool) -> None:
    rule = IgnoreRule("response-required-property-removed", "accepted", operation)

    result = diff_files(BASE, REVISION, ignore=[rule])

    assert (len(result.ignored), len(result.changes)) == ((1, 0) if ignored else (0, 1))
    assert bool(result.reaching(Level.ERROR)) is not ignored


def test_direction_limits_an_entry() -> None:
    rule = IgnoreRule(
        "response-required-property-removed", "r", None, Direction.FORWARD
    )

    result = diff_files(BASE, REVISION, Direction.BOTH, ignore=[rule])

    assert [c.direction for c in result.changes] == [Direction.BACKWARD]
    assert result.ignored == ()


@pytest.mark.parametrize(
    ("text", "pointer", "words"),
    [
        ("- rule: a\n", "#/0", "'reason' is a required property"),
        (
            "- rule: a\n  reason: r\n  operation: /items\n",
            "#/0/operation",
            "does not match",
        ),
        ("- rule: a\n  reason: r\n  because: x\n", "#/0", "'because' was unexpected"),
        ("rule: a\n", "#", "is not of type 'array'"),
    ],
    ids=["no-reason", "operation-without-method", "unknown-field", "not-a-list"],
)
def test_invalid_entries_name_the_place(
    tmp_path: Path, text: str, pointer: str, words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_ignore_file(write(tmp_path, text))

    [problem] = error.value.problems
    assert problem.path == pointer
    assert words in problem.message
    assert problem.hint


def test_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_ignore_file(write(tmp_path, "- rule: [\n"))

    assert error.value.problems[0].path.startswith("line ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_ignore_file(tmp_path / "missing.yaml")

    assert "cannot read the ignore file" in error.value.problems[0].message


def test_unknown_rule_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "- rule: no-such-rule\n  reason: typo\n")

    with caplog.at_level(logging.WARNING):
        load_ignore_file(path)

    assert "'no-such-rule' is not a rule rollout applies" in caplog.text
