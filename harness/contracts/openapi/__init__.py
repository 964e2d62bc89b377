"""OpenAPI contracts: loading (3.0, 3.1, Swagger 2.0) and breaking-change diffs.

::

    from harness.contracts.openapi import Direction, diff_files

    result = diff_files("v1.yaml", "v2.yaml", Direction.BOTH)
    for change in result.ordered():
        print(change.level.value, change.rule, change.operation, change.message)

Rules and their ids are listed in :data:`RULES` and in ``docs/diff.md``.
"""

from __future__ import annotations

from harness.contracts.openapi.changes import Change, DiffResult, Direction
from harness.contracts.openapi.diff import diff, diff_files
from harness.contracts.openapi.document import Document, Location, SpecVersion, load
from harness.contracts.openapi.ignore import IgnoreRule, load_ignore_file
from harness.contracts.openapi.rules import RULES, Rule

__all__ = [
    "RULES",
    "Change",
    "DiffResult",
    "Direction",
    "Document",
    "IgnoreRule",
    "Location",
    "Rule",
    "SpecVersion",
    "diff",
    "diff_files",
    "load",
    "load_ignore_file",
]
