"""Reading a YAML (or JSON) file that the user gave, as bad input when it fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import BadInput, Problem

__all__ = ["read_yaml"]


def read_yaml(path: Path, error: type[BadInput], what: str, hint: str) -> Any:
    """The parsed document at ``path``, which the user knows as ``what``.

    A file that cannot be read raises ``error`` with ``hint`` (what to fix where
    the path came from); invalid YAML raises it with the line and column.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = (
            "file not found"
            if isinstance(exc, FileNotFoundError)
            else (exc.strerror or str(exc))
        )
        message = f"cannot read {what}: {reason}"
        raise error([Problem(str(path), "", message, hint=hint)]) from None

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(
            [
                Problem(
                    str(path),
                    where,
                    f"invalid YAML: {problem}",
                    hint="check the indentation and quoting near that line",
                )
            ]
        ) from None
