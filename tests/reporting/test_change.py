"""How a change read from git manifests shows in the terminal and the reports."""

from __future__ import annotations

from rich.console import Console

from harness.core.model import Bump, Decision, Verdict
from harness.engine.events import Event, RunFinished, RunReport
from harness.manifests import GitChange, ImageChange
from harness.reporting.change import (
    change_markdown,
    change_notes,
    render_change,
    with_notes,
)

REPORT = RunReport(
    run_id="rollout-test",
    system="acme",
    backend="process",
    bumps=(Bump("api", "v1", "v2"),),
    results=(),
    verdict=Verdict(Decision.ALLOWED, stages=(("api",),), advice=("today's note",)),
    duration=1.0,
    instances_started=2,
)

CHANGE = GitChange(
    base="origin/main",
    head="HEAD",
    baselines={"api": "v1", "web": "v1"},
    candidates={"api": "v2"},
    changes=(
        ImageChange(
            "Deployment/api", "api", "acme/api:1", "acme/api:2", "HEAD:k", "api"
        ),
    ),
    unmapped=(
        ImageChange("Deployment/cache", "redis", "redis:7.0", "redis:7.2", "HEAD:c"),
    ),
    vanished=("web",),
)


def test_notes_reach_the_report_after_its_own_advice() -> None:
    seen: list[Event] = []

    with_notes(seen.append, ("from git",))(RunFinished(REPORT))

    [event] = seen
    assert isinstance(event, RunFinished)
    assert event.report.verdict.advice == ("today's note", "from git")
    assert REPORT.verdict.advice == ("today's note",)


def test_without_notes_the_listener_is_unchanged() -> None:
    seen: list[Event] = []

    assert with_notes(seen.append, ()) == seen.append


def test_a_change_is_shown_with_what_was_not_checked() -> None:
    console = Console(record=True, width=200, color_system=None)

    console.print(render_change(CHANGE))

    assert console.export_text().splitlines() == [
        "image changes in the manifests of origin/main..HEAD:",
        "  api: acme/api:1 -> acme/api:2 (Deployment/api, container api)",
        "  note: image changed but maps to no service, not checked: "
        "Deployment/cache container redis: redis:7.0 -> redis:7.2",
        "  note: service web has no workload at HEAD any more (vanished, not checked)",
    ]


def test_the_notes_of_a_change_say_where_the_bumps_came_from() -> None:
    notes = change_notes(CHANGE)

    assert notes[0] == "bumps read from the Kubernetes manifests of origin/main..HEAD"
    assert len(notes) == 3


def test_a_change_without_bumps_has_a_markdown_summary() -> None:
    text = change_markdown(CHANGE)

    assert text.startswith("## Rollout check: nothing to check\n")
    assert "between `origin/main` and `HEAD`" in text
    assert "- service web has no workload at HEAD any more" in text
