"""Report formats written to files: JSON, Markdown, JUnit XML and HTML."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from harness.core.errors import ConfigError, Problem
from harness.core.model import CellResult, Edge, Outcome
from harness.engine.events import Event, RunFinished, RunReport
from harness.reporting.document import check_columns, report_document, symbol

__all__ = [
    "FORMATS",
    "ReportFile",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
]


def render_json(report: RunReport) -> str:
    """The documented JSON report (see docs/report-format.md)."""
    return json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: RunReport) -> str:
    """A report fit for a pull-request comment: verdict, order, matrix, reasons."""
    verdict = report.verdict
    mark = "✅ allowed" if verdict.allowed else "❌ blocked"
    if verdict.environment_failed:
        mark += " (environment failure: nothing is known for some cells)"
    lines = [f"## Rollout check: {mark}", ""]
    bumps = ", ".join(
        f"`{b.service}` {b.baseline} → {b.candidate}" for b in report.bumps
    )
    lines += [f"**Bumps:** {bumps or 'none'}", ""]
    if verdict.stages:
        order = " → ".join(
            ", ".join(f"`{s}`" for s in stage) for stage in verdict.stages
        )
        lines += [f"**Rollout order:** {order}", ""]
    for title, items in (
        ("Why it is blocked", verdict.reasons),
        ("Notes", verdict.advice),
    ):
        if items:
            lines += [f"### {title}", "", *(f"- {item}" for item in items), ""]

    kinds = check_columns(report.results)
    lines += [
        "### Matrix",
        "",
        "| cell | when | " + " | ".join(k.value for k in kinds) + " | outcome |",
        "|---|---|" + "---|" * len(kinds) + "---|",
    ]
    for result in report.results:
        by_kind = {check.kind: check.outcome for check in result.checks}
        marks = [symbol(by_kind[k]) if k in by_kind else "" for k in kinds]
        lines.append(
            f"| `{result.cell}` | {result.cell.pairing.description} | "
            + " | ".join(marks)
            + f" | {symbol(result.outcome)} {result.outcome.value} |"
        )
    lines.append("")

    failing = [r for r in report.results if r.outcome in _FAILED]
    if failing:
        lines += ["<details><summary>Findings</summary>", ""]
        for result in failing:
            lines.append(f"**`{result.cell}`**")
            lines += [f"- {_line(f.location, f.message)}" for f in result.failures()]
            lines.append("")
        lines += ["</details>", ""]
    lines.append(
        f"<sub>run `{report.run_id}` on `{report.backend}`, "
        f"{report.instances_started} instances, {report.duration:.1f}s</sub>"
    )
    return "\n".join(lines) + "\n"


def render_junit(report: RunReport) -> str:
    """JUnit XML: a test suite per edge, a test case per cell and check."""
    suites = ET.Element("testsuites", name=f"rollout {report.system}")
    by_edge: dict[Edge, list[CellResult]] = {}
    for result in report.results:
        by_edge.setdefault(result.cell.edge, []).append(result)

    for edge, results in by_edge.items():
        suite = ET.SubElement(suites, "testsuite", name=str(edge))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            for check in result.checks:
                counts["tests"] += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=str(edge),
                    name=f"{result.cell.id}[{check.kind.value}]",
                    time=f"{check.duration:.3f}",
                )
                text = "\n".join(
                    _line(f.location, f.message) + ("\n" + f.detail if f.detail else "")
                    for f in check.findings
                )
                tag = {
                    Outcome.INCOMPATIBLE: "failure",
                    Outcome.ERROR: "error",
                    Outcome.SKIPPED: "skipped",
                }.get(check.outcome)
                if tag is not None:
                    counts[
                        {
                            "failure": "failures",
                            "error": "errors",
                            "skipped": "skipped",
                        }[tag]
                    ] += 1
                    node = ET.SubElement(case, tag, message=check.summary or tag)
                    node.text = text
        for key, value in counts.items():
            suite.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def render_html(report: RunReport) -> str:
    """A self-contained HTML page with the verdict, the order and the matrix."""
    verdict = report.verdict
    esc = html.escape
    kinds = check_columns(report.results)
    rows = []
    for result in report.results:
        by_kind = {check.kind: check for check in result.checks}
        cells = "".join(
            f'<td class="{by_kind[k].outcome.value}" title="{esc(by_kind[k].summary)}">'
            f"{by_kind[k].outcome.value}</td>"
            if k in by_kind
            else "<td></td>"
            for k in kinds
        )
        findings = "".join(
            f"<li>{esc(_line(f.location, f.message))}</li>" for f in result.failures()
        )
        rows.append(
            f"<tr><td><code>{esc(str(result.cell))}</code></td>"
            f"<td>{esc(result.cell.pairing.description)}</td>{cells}"
            f'<td class="{result.outcome.value}">{result.outcome.value}</td>'
            f"<td><ul>{findings}</ul></td></tr>"
        )
    order = " &rarr; ".join(esc(", ".join(stage)) for stage in verdict.stages)
    reasons = "".join(f"<li>{esc(r)}</li>" for r in verdict.reasons)
    notes = "".join(f"<li>{esc(a)}</li>" for a in verdict.advice)
    head = "".join(f"<th>{k.value}</th>" for k in kinds)
    return _HTML.format(
        system=esc(report.system),
        decision=verdict.decision.value,
        order=order,
        reasons=reasons,
        notes=notes,
        head=head,
        rows="\n".join(rows),
        run=esc(report.run_id),
        backend=esc(report.backend),
    )


_FAILED = (Outcome.INCOMPATIBLE, Outcome.ERROR)

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Rollout check: {system}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; vertical-align: top; }}
.compatible {{ background: #e6f4ea; }} .incompatible {{ background: #fce8e6; }}
.error {{ background: #fef7e0; }} .skipped {{ color: #777; }}
.allowed {{ color: #137333; }} .blocked {{ color: #c5221f; }}
</style></head><body>
<h1>Rollout check: <span class="{decision}">{decision}</span></h1>
<p>Rollout order: {order}</p>
<ul>{reasons}</ul>
<ul>{notes}</ul>
<table><tr><th>cell</th><th>when</th>{head}<th>outcome</th><th>findings</th></tr>
{rows}
</table>
<p><small>run {run} on {backend}</small></p>
</body></html>
"""


def _line(location: str, message: str) -> str:
    return f"{location}: {message}" if location else message


FORMATS: dict[str, Callable[[RunReport], str]] = {
    ".json": render_json,
    ".md": render_markdown,
    ".xml": render_junit,
    ".html": render_html,
}


class ReportFile:
    """Listens to a run and writes its report to ``path`` when it finishes.

    The format follows the suffix: .json, .md, .xml (JUnit) or .html.
    """

    def __init__(self, path: Path, option: str = "--report") -> None:
        if path.suffix not in FORMATS:
            raise ConfigError(
                [
                    Problem(
                        "command line",
                        option,
                        f"cannot tell the format of {path}",
                        hint="use a file name ending in " + ", ".join(FORMATS),
                    )
                ]
            )
        self.path = path
        self._render = FORMATS[path.suffix]

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.write(event.report)

    def write(self, report: RunReport) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self._render(report), encoding="utf-8")
