"""Fixtures that write small OpenAPI documents and diff them."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.contracts.openapi import Change, Direction, diff_files

#: Sunset dates in the fixtures are judged against this day.
TODAY = datetime.date(2026, 1, 15)

Writer = Callable[[str, Mapping[str, Any]], Path]
Differ = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[set[str], set[str]]]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Write a document as YAML (or JSON for ``*.json``) and return its path."""

    def writer(name: str, document: Mapping[str, Any]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            path.write_text(json.dumps(document))
        else:
            path.write_text(yaml.safe_dump(dict(document), sort_keys=False))
        return path

    return writer


def rules(changes: tuple[Change, ...], direction: Direction) -> set[str]:
    return {c.rule for c in changes if c.direction is direction}


@pytest.fixture
def diff_rules(write: Writer) -> Differ:
    """Diff two documents both ways: the rule ids found backward and forward."""

    def run(
        base: Mapping[str, Any], revision: Mapping[str, Any]
    ) -> tuple[set[str], set[str]]:
        result = diff_files(
            write("base.yaml", base),
            write("revision.yaml", revision),
            Direction.BOTH,
            today=TODAY,
        )
        return (
            rules(result.changes, Direction.BACKWARD),
            rules(result.changes, Direction.FORWARD),
        )

    return run
