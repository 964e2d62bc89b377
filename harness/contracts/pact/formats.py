"""The pattern languages of matchers: regular expressions and Java date formats."""

from __future__ import annotations

import functools
import re

__all__ = ["regex", "strptime_format"]


@functools.lru_cache(maxsize=512)
def regex(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, compiled once for all the values it checks."""
    return re.compile(pattern)


_DATE_PART = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|[^A-Za-z']+")
_DATE_LETTERS = {
    "d": "%d",
    "D": "%j",
    "a": "%p",
    "H": "%H",
    "h": "%I",
    "m": "%M",
    "s": "%S",
    "S": "%f",
    "Z": "%z",
    "X": "%z",
    "x": "%z",
    "z": "%Z",
}


def _date_directive(letter: str, count: int) -> str:
    """The ``strptime`` directive for a run of one ``SimpleDateFormat`` letter."""
    if letter in "yu":
        return "%y" if count == 2 else "%Y"
    if letter in "ML":
        return "%m" if count < 3 else "%b" if count == 3 else "%B"
    if letter == "E":
        return "%a" if count <= 3 else "%A"
    if letter in _DATE_LETTERS:
        return _DATE_LETTERS[letter]
    raise ValueError(f"date format letter {letter!r} is not supported")


@functools.lru_cache(maxsize=128)
def strptime_format(pattern: str) -> str:
    """Translate a Java ``SimpleDateFormat`` pattern, which Pact files use."""
    translated = ""
    for part in _DATE_PART.finditer(pattern):
        quoted, letter = part[1], part[2]
        if quoted is not None:
            translated += (quoted.replace("''", "'") or "'").replace("%", "%%")
        elif letter is None:
            translated += part[0].replace("%", "%%")
        else:
            translated += _date_directive(letter, len(part[0]))
    return translated
