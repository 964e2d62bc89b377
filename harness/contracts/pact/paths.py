"""Paths into a JSON value: the rule paths of a Pact file, like ``$.items[*].id``."""

from __future__ import annotations

import enum
import re
from typing import TypeAlias

from harness.contracts.pact.values import Json

__all__ = [
    "DocPath",
    "Part",
    "Wildcard",
    "format_path",
    "parse_path",
    "path_weight",
    "replace_at",
]


class Wildcard(enum.Enum):
    """A step of a rule path that stands for any key or any index."""

    ANY_KEY = "*"
    ANY_INDEX = "[*]"


Part: TypeAlias = "str | int | Wildcard"
"""One step of a rule path: a key, an index or a wildcard."""

DocPath: TypeAlias = "tuple[str | int, ...]"
"""Where a value sits in a document: the keys and indexes leading to it."""

_SEGMENT = re.compile(
    r"""\.(?P<name>[^.\[\]'"]+)"""
    r"""|\[(?:'(?P<quoted>(?:[^'\\]|\\.)*)'|"(?P<dquoted>[^"]*)"|(?P<index>\d+)"""
    r"""|(?P<star>\*))\]"""
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_path(expression: str) -> tuple[Part, ...] | None:
    """Tokens after the root of ``$.items[*].id``; ``None`` when malformed."""
    text = expression.strip()
    if not text.startswith("$"):
        return None

    tokens: list[Part] = []
    position = 1
    while position < len(text):
        segment = _SEGMENT.match(text, position)
        if segment is None:
            return None
        tokens.append(_part(segment))
        position = segment.end()
    return tuple(tokens)


def _part(segment: re.Match[str]) -> Part:
    if segment["index"] is not None:
        return int(segment["index"])
    if segment["star"] is not None:
        return Wildcard.ANY_INDEX
    if segment["name"] == "*":
        return Wildcard.ANY_KEY
    if segment["quoted"] is not None:
        return re.sub(r"\\(.)", r"\1", segment["quoted"])
    return str(segment["name"] or segment["dquoted"])


def path_weight(tokens: tuple[Part, ...], path: DocPath) -> int:
    """How well a rule path matches a value's path: 0 when it does not.

    Each matching step doubles the weight when it names the step exactly and
    keeps it for a wildcard, as the reference implementation does, so the
    most specific rule wins.
    """
    if len(tokens) > len(path):
        return 0

    weight = 2
    for token, step in zip(tokens, path[: len(tokens)], strict=True):
        if token is Wildcard.ANY_INDEX:
            weight *= 1 if isinstance(step, int) else 0
        elif token is not Wildcard.ANY_KEY:
            weight *= 2 if str(token) == str(step) else 0
    return weight


def format_path(path: DocPath) -> str:
    """``$.items[0].id``: the path as users write it in a Pact file."""
    text = "$"
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _IDENTIFIER.fullmatch(step):
            text += f".{step}"
        else:
            text += "['" + step.replace("'", "\\'") + "']"
    return text


def replace_at(document: Json, tokens: tuple[Part, ...] | None, value: Json) -> Json:
    """A copy of ``document`` with ``value`` at a concrete path."""
    if tokens is None:
        return document
    if not tokens:
        return value

    head, rest = tokens[0], tokens[1:]
    if isinstance(document, dict) and isinstance(head, str) and head in document:
        return {**document, head: replace_at(document[head], rest, value)}
    if isinstance(document, list) and isinstance(head, int) and head < len(document):
        items = list(document)
        items[head] = replace_at(items[head], rest, value)
        return items
    return document
