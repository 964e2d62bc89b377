"""How a change found in git manifests is shown: bumps, and what was not checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.console import Group, RenderableType
from rich.text import Text

from harness.engine.events import Event, Listener, RunFinished
from harness.manifests import GitChange

__all__ = ["change_markdown", "change_notes", "render_change", "with_notes"]


def change_notes(change: GitChange) -> tuple[str, ...]:
    """The notes a report of this change carries: where the bumps came from."""
    origin = f"bumps read from the Kubernetes manifests of {change.base}..{change.head}"
    return (origin, *change.notes())


def render_change(change: GitChange) -> RenderableType:
    """The terminal lines for a change: its service images, then its notes."""
    lines = [Text(f"image changes in the manifests of {change.base}..{change.head}:")]
    for image in change.changes:
        if image.service is not None:
            where = f"{image.workload}, container {image.container}"
            lines.append(
                Text(f"  {image.service}: {image.base} -> {image.head} ({where})")
            )
    lines += [Text(f"  note: {note}", style="yellow") for note in change.notes()]
    return Group(*lines)


def change_markdown(change: GitChange) -> str:
    """A Markdown summary for a change that needs no run (no bumps)."""
    lines = [
        "## Rollout check: nothing to check",
        "",
        f"No service changes version between `{change.base}` and `{change.head}`.",
        "",
    ]
    if change.notes():
        lines += ["### Notes", "", *(f"- {note}" for note in change.notes()), ""]
    return "\n".join(lines)


def with_notes(listener: Listener, notes: Sequence[str]) -> Listener:
    """``listener``, shown the finished report with ``notes`` among its advice."""
    if not notes:
        return listener

    def annotated(event: Event) -> None:
        if isinstance(event, RunFinished):
            verdict = event.report.verdict
            verdict = replace(verdict, advice=(*verdict.advice, *notes))
            event = RunFinished(replace(event.report, verdict=verdict))
        listener(event)

    return annotated
