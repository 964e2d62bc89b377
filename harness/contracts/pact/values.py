"""JSON values and recorded bodies, and how a mismatch shows a value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "KIND_NAMES",
    "Body",
    "Json",
    "as_text",
    "item_count",
    "json_equal",
    "json_kind",
    "show",
]

Json: TypeAlias = Any
"""A decoded JSON value (``bytes`` stands for a binary body)."""


@dataclass(frozen=True, slots=True)
class Body:
    """A recorded body: a JSON value, text, or ``bytes``, with its content type.

    ``content`` of ``None`` records an explicitly empty body.
    """

    content: Json
    content_type: str = ""

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        if isinstance(self.content, dict | list) or not self.media_type:
            return not isinstance(self.content, str | bytes)
        return "json" in self.media_type

    @property
    def sent_content_type(self) -> str:
        """The content type to send: the recorded one, else one that fits."""
        if self.content_type:
            return self.content_type
        if isinstance(self.content, bytes):
            return "application/octet-stream"
        return "application/json" if self.is_json else "text/plain; charset=utf-8"

    @property
    def is_xml(self) -> bool:
        return self.media_type.endswith("xml")


_KINDS: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    bytes: "binary",
}


def json_kind(value: Json) -> str:
    """The JSON type of a value, as a key of :data:`KIND_NAMES`."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return _KINDS.get(type(value), "null")


KIND_NAMES = {
    "boolean": "a boolean",
    "number": "a number",
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "binary": "binary content",
    "null": "null",
}
"""How a mismatch names each JSON type."""


def show(value: Json) -> str:
    """A value as a mismatch quotes it, cut short past 80 characters."""
    if isinstance(value, bytes):
        return f"{len(value)} bytes"

    text = (
        f"'{value}'"
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= 80 else text[:76] + " ..."


def as_text(value: Json) -> str:
    """A value as text: bytes decoded, strings as they are, the rest as JSON."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else json.dumps(value)


def json_equal(expected: Json, actual: Json) -> bool:
    """JSON equality: 1 equals 1.0, but ``true`` never equals 1."""
    if json_kind(expected) != json_kind(actual):
        return False
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            json_equal(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(
            json_equal(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def item_count(count: int) -> str:
    """``1 item``, ``2 items``."""
    return f"{count} item" if count == 1 else f"{count} items"
