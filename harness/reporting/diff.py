"""Reports of ``rollout diff``: text, JSON, Markdown and JUnit XML.

Every renderer takes a :class:`DiffResult` and the ``--fail-on`` threshold and
returns text; the command line decides where it goes. Text and Markdown show a
change that recurs in many operations (a shared schema) once, with the
operations it reaches; JSON and JUnit list every finding.
"""

from __future__ import annotations

import io
import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from harness.contracts.openapi import Change, DiffResult, Direction
from harness.core.model import Level

__all__ = [
    "RENDERERS",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
    "text_report",
]

_STYLE = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.INFO: "dim"}
_SHOWN_OPERATIONS = 3
_INDENT = 8


@dataclass(frozen=True, slots=True)
class _Group:
    """One change as it recurs across operations."""

    change: Change
    operations: tuple[str, ...]

    @property
    def where(self) -> str:
        shown = ", ".join(self.operations[:_SHOWN_OPERATIONS]) or "(whole document)"
        more = len(self.operations) - _SHOWN_OPERATIONS
        return f"{shown} and {more} more" if more > 0 else shown


def _grouped(changes: Sequence[Change]) -> list[_Group]:
    groups: dict[tuple[str, ...], list[Change]] = {}
    for change in changes:
        # Messages of schema changes start with where the operation uses the
        # schema ("response 200 (application/json): ..."); that part may differ.
        core = change.message.split(": ", 1)[-1]
        key = (change.direction.value, change.rule, change.base, change.revision, core)
        groups.setdefault(key, []).append(change)
    return [
        _Group(found[0], tuple(c.operation for c in found if c.operation))
        for found in groups.values()
    ]


def _verdict(result: DiffResult, fail_on: Level) -> tuple[bool, str]:
    reaching = len(result.reaching(fail_on))
    if reaching:
        noun = "finding reaches" if reaching == 1 else "findings reach"
        return True, f"{reaching} {noun} --fail-on {fail_on.value}"
    return False, f"no finding reaches --fail-on {fail_on.value}"


def _summary(result: DiffResult) -> str:
    counts = result.counts()
    parts = [_count(counts[level], level.value) for level in Level]
    if result.ignored:
        parts.append(f"{len(result.ignored)} ignored")
    compared = _count(result.operations, "operation")
    return f"{compared} compared: " + ", ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def text_report(result: DiffResult, fail_on: Level) -> RenderableType:
    """The terminal report: a heading, each change in a few lines, the outcome."""
    directions = " and ".join(
        f"{d.value} ({d.description})" for d in result.direction.singles()
    )
    heading = Text.assemble(
        ("rollout diff ", "bold"),
        f"{_shown(result.base)} -> {_shown(result.revision)}\n",
        (directions, "dim"),
        "\n",
        _summary(result),
    )
    failed, outcome = _verdict(result, fail_on)
    parts: list[RenderableType] = [heading, Text()]
    for group in _grouped(result.ordered()):
        parts.append(_Block(group, result.direction is Direction.BOTH))
    mark = ("FAIL", "bold red") if failed else ("OK", "bold green")
    parts.append(Text.assemble(mark, f": {outcome}"))
    return Group(*parts)


class _Block:
    """One change: level and rule, then where, what, and its two locations.

    Wrapped by hand under a hanging indent: rich's padding would fill every
    line with spaces up to the terminal's width.
    """

    def __init__(self, group: _Group, both: bool) -> None:
        change = group.change
        self.title = Text.assemble(
            (f"{change.level.value:<8}", _STYLE[change.level]),
            (change.rule, "bold"),
            f"  [{change.direction.value}]" if both else "",
        )
        self.lines = [
            (group.where, ""),
            (change.message, ""),
            (f"base     {change.base or '-'}", "dim"),
            (f"revision {change.revision or '-'}", "dim"),
        ]

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        yield self.title
        width = max(options.max_width - _INDENT, 20)
        for line, style in self.lines:
            for piece in textwrap.wrap(line, width, break_on_hyphens=False) or [""]:
                yield Text(" " * _INDENT + piece, style=style)
        yield Text()


def _shown(path: Path) -> str:
    """A path relative to the current folder when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render_text(result: DiffResult, fail_on: Level, width: int = 120) -> str:
    """The text report without colour, for a file or a pipe."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    console.print(text_report(result, fail_on))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _change_document(change: Change) -> dict[str, str]:
    return {
        "rule": change.rule,
        "level": change.level.value,
        "direction": change.direction.value,
        "operation": change.operation,
        "message": change.message,
        "base": change.base,
        "revision": change.revision,
    }


def render_json(result: DiffResult, fail_on: Level) -> str:
    """Every finding, and the ignored ones apart; documented in docs/diff.md."""
    failed, _ = _verdict(result, fail_on)
    counts = result.counts()
    document: dict[str, Any] = {
        "base": str(result.base),
        "revision": str(result.revision),
        "direction": result.direction.value,
        "fail_on": fail_on.value,
        "failed": failed,
        "summary": {
            "operations": result.operations,
            **{level.value: counts[level] for level in Level},
            "ignored": len(result.ignored),
        },
        "findings": [_change_document(c) for c in result.ordered()],
        "ignored": [_change_document(c) for c in result.ignored],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: DiffResult, fail_on: Level) -> str:
    """A pull-request comment: outcome first, then one row per change."""
    failed, outcome = _verdict(result, fail_on)
    mark = "❌" if failed else "✅"
    lines = [
        f"## API diff: `{_shown(result.base)}` → `{_shown(result.revision)}`",
        "",
        f"{mark} {outcome}.",
        "",
        f"**Direction:** {result.direction.value} ({result.direction.description}). "
        f"{_summary(result)}.",
        "",
    ]
    if result.changes:
        both = result.direction is Direction.BOTH
        header = ["Level", *(["Direction"] if both else []), "Rule", "Operation"]
        header += ["Change", "Base", "Revision"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for group in _grouped(result.ordered()):
            lines.append(_markdown_row(group, both))
        lines.append("")
    return "\n".join(lines)


def _markdown_row(group: _Group, both: bool) -> str:
    change = group.change
    cells = [change.level.value, *([change.direction.value] if both else [])]
    cells += [f"`{change.rule}`", group.where, change.message]
    cells += [f"`{change.base}`" if change.base else "", ""]
    cells[-1] = f"`{change.revision}`" if change.revision else ""
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render_junit(result: DiffResult, fail_on: Level) -> str:
    """One test case per finding, failed when it reaches ``fail_on``."""
    suites = ET.Element("testsuites", name="rollout diff")
    for direction in result.direction.singles():
        changes = [c for c in result.ordered() if c.direction is direction]
        failures = sum(1 for c in changes if c.reaches(fail_on))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{direction.value}: {direction.description}",
            tests=str(max(len(changes), 1)),
            failures=str(failures),
        )
        if not changes:
            ET.SubElement(
                suite, "testcase", classname="rollout diff", name="no changes"
            )
        for change in changes:
            _junit_case(suite, change, fail_on)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_case(suite: ET.Element, change: Change, fail_on: Level) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=change.operation or "document",
        name=change.rule,
    )
    detail = f"base {change.base or '-'}\nrevision {change.revision or '-'}"
    if change.reaches(fail_on):
        level = change.level.value
        failure = ET.SubElement(case, "failure", message=change.message, type=level)
        failure.text = detail
    else:
        out = ET.SubElement(case, "system-out")
        out.text = f"{change.level.value}: {change.message}\n{detail}"


#: The report formats of ``rollout diff --format``.
RENDERERS: Mapping[str, Callable[[DiffResult, Level], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "junit": render_junit,
}
