"""The terminal report: progress while the run goes on, then the matrix."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from harness.core.model import CellResult, Edge, Outcome, Verdict
from harness.engine.events import (
    CellFinished,
    Event,
    InstanceFailed,
    InstanceStarted,
    InstanceStarting,
    RunFinished,
    RunReport,
    RunStarted,
)
from harness.planning import Plan

__all__ = ["TerminalReport", "render_matrix", "render_plan"]

_STYLE = {
    Outcome.COMPATIBLE: "green",
    Outcome.INCOMPATIBLE: "bold red",
    Outcome.ERROR: "bold yellow",
    Outcome.SKIPPED: "dim",
}


class TerminalReport:
    """Listens to a run: a progress bar while it runs, the matrix when it ends."""

    def __init__(self, console: Console, show_progress: bool = True) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task = TaskID(0)
        self._show_progress = show_progress and console.is_terminal

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, InstanceStarting | InstanceStarted):
            self._describe(event)
        elif isinstance(event, InstanceFailed):
            self.console.print(
                f"[bold yellow]instance {escape(event.key.name)} failed:[/] "
                + escape(event.reason)
            )
        elif isinstance(event, CellFinished):
            self._cell_finished(event.result)
        elif isinstance(event, RunFinished):
            self._finished(event.report)

    def _started(self, event: RunStarted) -> None:
        self.console.print(
            f"run [bold]{event.run_id}[/] on [bold]{event.backend}[/]: "
            f"{len(event.cells)} cells, {len(event.instances)} instances"
        )
        if self._show_progress:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task(
                "checking cells", total=len(event.cells)
            )
            self._progress.start()

    def _describe(self, event: InstanceStarting | InstanceStarted) -> None:
        if self._progress is None:
            return
        verb = "starting" if isinstance(event, InstanceStarting) else "started"
        self._progress.update(self._task, description=f"{verb} {event.key}")

    def _cell_finished(self, result: CellResult) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task, advance=1, description=f"checked {result.cell}"
            )
        else:
            style = _STYLE[result.outcome]
            self.console.print(
                f"  {escape(str(result.cell))}: [{style}]{result.outcome.value}[/]"
            )

    def _finished(self, report: RunReport) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self.console.print(render_matrix(report))


def render_matrix(report: RunReport) -> RenderableType:
    """A grid per edge (consumer versions by provider versions), then the verdict."""
    parts: list[RenderableType] = []
    by_edge: dict[Edge, list[CellResult]] = {}
    for result in report.results:
        by_edge.setdefault(result.cell.edge, []).append(result)
    for edge, results in by_edge.items():
        parts.append(_edge_grid(edge, results))

    failing = [
        r for r in report.results if r.outcome in (Outcome.INCOMPATIBLE, Outcome.ERROR)
    ]
    for result in failing:
        text = Text(f"{result.cell}: ", style="bold")
        text.append(result.outcome.value, style=_STYLE[result.outcome])
        parts.append(text)
        for finding in result.failures()[:8]:
            where = f"{finding.location}: " if finding.location else ""
            parts.append(Text(f"    {where}{finding.message}"))
    parts.append(_verdict(report.verdict))
    return Group(*parts)


def _edge_grid(edge: Edge, results: list[CellResult]) -> Table:
    consumers = sorted({r.cell.consumer_version for r in results})
    providers = sorted({r.cell.provider_version for r in results})
    table = Table(title=Text(f"{edge} ({edge.protocol.value})"), title_justify="left")
    table.add_column(Text(f"{edge.consumer} \\ {edge.provider}"))
    for version in providers:
        table.add_column(Text(f"{edge.provider}@{version}"))
    outcome = {(r.cell.consumer_version, r.cell.provider_version): r for r in results}
    for consumer in consumers:
        row: list[RenderableType] = [Text(f"{edge.consumer}@{consumer}")]
        for provider in providers:
            result = outcome.get((consumer, provider))
            row.append(_outcome_text(result) if result else Text("-", style="dim"))
        table.add_row(*row)
    return table


def _outcome_text(result: CellResult) -> Text:
    text = Text(result.outcome.value, style=_STYLE[result.outcome])
    failures = result.failures()
    if failures:
        text.append(f" ({failures[0].message})", style="dim")
    return text


def _verdict(verdict: Verdict) -> RenderableType:
    style = "bold green" if verdict.allowed else "bold red"
    lines = [Text.assemble("verdict: ", (verdict.decision.value, style))]
    lines += [Text(f"  - {reason}") for reason in verdict.reasons]
    if verdict.stages:
        order = "  then  ".join(", ".join(stage) for stage in verdict.stages)
        lines.append(Text.assemble("rollout order: ", (order, "bold")))
    lines += [Text(f"  note: {advice}", style="dim") for advice in verdict.advice]
    return Group(*lines)


def render_plan(plan: Plan) -> RenderableType:
    """What ``rollout plan`` shows: bumps, cells with their checks, instances."""
    bumps = ", ".join(str(b) for b in plan.bumps) or "none"
    table = Table(title="cells", title_justify="left")
    for column in ("cell", "when", "checks", "provider instance"):
        table.add_column(column)
    for planned in plan.cells:
        table.add_row(
            Text(str(planned.cell)),
            planned.cell.pairing.description,
            ", ".join(kind.value for kind in planned.checks),
            Text(str(planned.provider_instance or "-")),
        )
    instances = Table(title="instances (each started once)", title_justify="left")
    instances.add_column("instance")
    instances.add_column("wired to")
    for spec in plan.instances:
        wires = ", ".join(f"{w.env}={w.provider}" for w in spec.wires) or "-"
        instances.add_row(Text(spec.name), Text(wires))
    return Group(Text(f"bumps: {bumps}"), table, instances)
